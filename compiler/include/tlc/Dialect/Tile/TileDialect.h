//===- TileDialect.h - The tile dialect -------------------------*- C++ -*-===//
//
// Part of tlc. The one header to include for the tile dialect: the dialect,
// its enums, attributes, types and operations.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_DIALECT_TILE_TILEDIALECT_H
#define TLC_DIALECT_TILE_TILEDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <string>

#include "tlc/Dialect/Tile/TileDialect.h.inc"
#include "tlc/Dialect/Tile/TileEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tlc/Dialect/Tile/TileAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "tlc/Dialect/Tile/TileTypes.h.inc"

#define GET_OP_CLASSES
#include "tlc/Dialect/Tile/TileOps.h.inc"

namespace tlc::tile {

/// Formats a shape the way diagnostics print it: `128x32`, `?x64`, and
/// `scalar` for rank 0.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// Formats a type the way MLIR prints it, without the quotes that a
/// diagnostic adds around a streamed type: `bf16`, `f32`.
std::string formatType(mlir::Type type);

/// "12:5": where `op` is in the .tl source, for diagnostics that point at a
/// second place.
std::string sourcePlace(mlir::Operation *op);

/// What the source language calls `op`, for diagnostics: "element write",
/// "Parallel loop", "gemm", ...
std::string sourceName(mlir::Operation *op);

/// Whether `name` cannot be a global C++ identifier of the generated CUDA:
/// a C++ keyword, `main`, a CUDA built-in, a namespace the generated code
/// uses (`tlc`, `std`), or a reserved spelling (leading `_`, `__` anywhere).
/// Kernels with such a name are rejected (they are launched by name); the
/// CUDA emitter renames such parameters (and those that collide with its
/// locals).
bool isReservedCudaName(llvm::StringRef name);

/// Registers per thread that a block of `threads` threads starts with under
/// `__launch_bounds__(threads, blocksPerSM)`: the budget `setmaxnreg` is
/// measured against, and what a role without `regs` keeps.
int64_t launchRegisterCap(int64_t threads, int64_t blocksPerSM = 1);

/// The registers one block may hold when `blocksPerSM` blocks share the
/// 65536 of a multiprocessor.
int64_t launchRegisterFile(int64_t blocksPerSM);

/// The swizzle (bytes) a tile.annotate_layout asks for on the shared buffer
/// `alloc` defines, or 0 when none does.
int64_t annotatedSwizzle(mlir::Operation *alloc);

/// Whether `op` is scalar code that every thread of a block computes alike:
/// integer or float arithmetic, tensor dimensions and element reads of
/// tensors the kernel never writes, over block indices, kernel parameters
/// and constants. Such code may sit outside the roles of
/// a kernel (each role recomputes it).
bool isUniformScalarCode(mlir::Operation *op);

} // namespace tlc::tile

#endif // TLC_DIALECT_TILE_TILEDIALECT_H
