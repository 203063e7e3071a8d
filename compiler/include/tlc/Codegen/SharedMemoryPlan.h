//===- SharedMemoryPlan.h - Offsets of a block's shared buffers -*- C++ -*-===//
//
// Shared memory is one arena per block. Buffers whose lifetimes do not
// overlap may share bytes: a pipeline's ring and the epilogue tile written
// after the pipeline has drained, say. The code generator numbers program
// points, gives each buffer the interval during which it holds data, and
// this packer assigns offsets.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_CODEGEN_SHAREDMEMORYPLAN_H
#define TLC_CODEGEN_SHAREDMEMORYPLAN_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace tlc {

/// One buffer in shared memory: `bytes` at an offset that is a multiple of
/// `align` (a power of two), holding data from program point `first` to
/// `last` (inclusive).
struct SharedBufferRequest {
  int64_t bytes = 0;
  int64_t align = 1;
  int64_t first = 0, last = 0;
  int64_t offset = -1; ///< The result.
};

/// Assigns every request an offset such that no two requests whose
/// intervals intersect overlap in memory: in the given (program) order,
/// each at the lowest offset that fits. Returns the bytes the arena needs.
int64_t packSharedBuffers(llvm::MutableArrayRef<SharedBufferRequest> requests);

} // namespace tlc

#endif // TLC_CODEGEN_SHAREDMEMORYPLAN_H
