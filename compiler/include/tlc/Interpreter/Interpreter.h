//===- Interpreter.h - CPU interpreter of the tile dialect ------*- C++ -*-===//
//
// Part of tlc. Runs tile-dialect kernels, as built by tlc::buildTileModule
// (before any code-generation pass), on the CPU. This is the reference
// semantics that the GPU path must agree with: every block of the grid runs
// one after another, and inside a block every op runs once, as if by one
// logical thread (tile ops are block-wide collective ops).
//
//===----------------------------------------------------------------------===//

#ifndef TLC_INTERPRETER_INTERPRETER_H
#define TLC_INTERPRETER_INTERPRETER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <variant>
#include <vector>

namespace tlc::interp {

/// The storage type of a tensor (or a scalar argument).
enum class DType { BF16, F16, F32, F64, I8, I32, I64, Bool };

/// `bf16`, `f16`, ..., `bool`: the names the language uses.
llvm::StringRef dtypeName(DType dtype);

/// Rounds `value` to what a `dtype` location holds after storing it: bf16 and
/// f16 round to nearest even (overflow gives infinity), f32 goes through a
/// float cast, integers truncate toward zero and wrap to their width (NaN
/// gives 0), bool is `value != 0`.
double roundTo(DType dtype, double value);

/// An owned host tensor, row-major and contiguous. Values are doubles, but
/// every store rounds them to `dtype` (see roundTo), so results match a GPU
/// that stores that dtype.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<double> data;

  int64_t numElements() const;
};

/// A tensor of `shape` with every element `fill` (rounded to `dtype`).
HostTensor makeTensor(DType dtype, std::vector<int64_t> shape,
                      double fill = 0.0);

/// A scalar kernel argument (`i32`, `i64` or `f32` parameters).
struct Scalar {
  DType dtype;
  double value;
};

using KernelArg = std::variant<HostTensor *, Scalar>;

/// Runs kernel `name` of `module` (a module from buildTileModule) over its
/// whole grid, blocks one after another (x fastest, then y, then z), with
/// `args`: one per kernel parameter, in order. Tensor arguments are read and
/// written in place; on entry their values are rounded to their dtype (as
/// uploading them to a GPU would).
///
/// Errors are reported with mlir::emitError at the location of the op (or of
/// the kernel, for argument errors), so that under a
/// SourceMgrDiagnosticHandler they print as `file.tl:LINE:COL: error: ...`;
/// the result is then failure. Errors: arguments that do not match the
/// parameters (count, kind, dtype, rank, static or symbolic dimensions); an
/// out-of-bounds box or element of a shared, fragment or local buffer; an
/// out-of-bounds element access of a global tensor; a read of a shared,
/// fragment or local element that was never written; integer division by
/// zero; a get on an empty channel; an op the interpreter does not support.
mlir::LogicalResult runKernel(mlir::ModuleOp module, llvm::StringRef name,
                              llvm::MutableArrayRef<KernelArg> args);

} // namespace tlc::interp

#endif // TLC_INTERPRETER_INTERPRETER_H
