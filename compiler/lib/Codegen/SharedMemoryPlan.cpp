//===- SharedMemoryPlan.cpp - Offsets of a block's shared buffers ---------===//

#include "tlc/Codegen/SharedMemoryPlan.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace tlc;

int64_t
tlc::packSharedBuffers(llvm::MutableArrayRef<SharedBufferRequest> requests) {
  int64_t top = 0;
  llvm::SmallVector<size_t> placed;
  for (size_t index = 0; index < requests.size(); ++index) {
    SharedBufferRequest &request = requests[index];
    auto livesWith = [&](const SharedBufferRequest &other) {
      return other.first <= request.last && request.first <= other.last;
    };
    // Candidates: the start of the arena and the end of every buffer live
    // at the same time; the lowest that collides with none of them wins.
    llvm::SmallVector<int64_t> candidates{0};
    for (size_t other : placed)
      if (livesWith(requests[other]))
        candidates.push_back(requests[other].offset + requests[other].bytes);
    llvm::sort(candidates);
    for (int64_t candidate : candidates) {
      int64_t offset = llvm::alignTo(candidate, request.align);
      bool collides = llvm::any_of(placed, [&](size_t other) {
        const SharedBufferRequest &o = requests[other];
        return livesWith(o) && o.offset < offset + request.bytes &&
               offset < o.offset + o.bytes;
      });
      if (!collides) {
        request.offset = offset;
        break;
      }
    }
    placed.push_back(index);
    top = std::max(top, request.offset + request.bytes);
  }
  return top;
}
