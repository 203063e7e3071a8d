//===- SharedLiveness.h - When shared buffers hold data ---------*- C++ -*-===//
//
// Part of tlc. The interval of program points during which each shared
// buffer of a launch holds data, which the shared-memory plan
// (SharedMemoryPlan.h) packs: buffers whose intervals do not meet may share
// bytes. Reuse is safe because code generation puts a barrier before every
// op that touches shared memory and finishes a block's gemms before its
// end.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_CODEGEN_SHAREDLIVENESS_H
#define TLC_CODEGEN_SHAREDLIVENESS_H

#include "tlc/Dialect/Tile/TileDialect.h"

#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <utility>

namespace tlc {

/// Program points of a launch body: each op's position in a pre-order walk
/// and the last position inside it.
struct ProgramPoints {
  llvm::DenseMap<mlir::Operation *, std::pair<int64_t, int64_t>> span;
  int64_t end = 0;
  void number(mlir::Operation *op);
};

/// The program points during which shared buffer `alloc` holds data: from
/// its first use to its last. A use inside a loop that does not allocate
/// the buffer keeps it for the whole loop (other iterations use it too),
/// unless every iteration overwrites it whole before reading it (and it is
/// not a ring that copies fill ahead: `iterationLocal`); a
/// use inside any other op with a body but `scf.if` (a `Parallel`, say)
/// keeps it for that whole op, whose threads run without barriers between
/// its statements. An asynchronous gemm reads its shared operands until
/// the wait that finishes it, so they stay live until then (an op in
/// between must not reuse their memory: its barriers do not wait for the
/// tensor cores). Uses through views count; layout annotations do not.
/// `points` numbers `launch`.
std::pair<int64_t, int64_t> sharedLiveRange(tile::AllocOp alloc,
                                            const ProgramPoints &points,
                                            mlir::Operation *launch,
                                            bool iterationLocal);

} // namespace tlc

#endif // TLC_CODEGEN_SHAREDLIVENESS_H
