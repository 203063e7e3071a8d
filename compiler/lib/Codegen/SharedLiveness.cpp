//===- SharedLiveness.cpp - When shared buffers hold data -----------------===//
//
// Part of tlc. The live ranges the shared-memory plan packs
// (tlc/Codegen/SharedLiveness.h).
//
//===----------------------------------------------------------------------===//

#include "tlc/Codegen/SharedLiveness.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace tlc;
using namespace tlc::tile;

void ProgramPoints::number(Operation *op) {
  int64_t first = end++;
  for (Region &region : op->getRegions())
    for (mlir::Block &block : region)
      for (Operation &nested : block)
        number(&nested);
  span[op] = {first, end - 1};
}

namespace {

/// Where the asynchronous gemm `gemm` is known finished: the first
/// `tile.gemm_wait` after it in its block that names its accumulator, else
/// its block's end (a block finishes the gemms it issued).
Operation *finishingWait(GemmOp gemm) {
  for (Operation *op = gemm->getNextNode(); op; op = op->getNextNode())
    if (auto wait = dyn_cast<GemmWaitOp>(op))
      if (llvm::is_contained(wait.getAccumulators(), gemm.getC()))
        return op;
  return &gemm->getBlock()->back();
}

/// Whether `v` is `buffer` or a view of it.
bool refersTo(Value v, Value buffer) {
  while (v != buffer) {
    auto view = v.getDefiningOp<ViewOp>();
    if (!view)
      return false;
    v = view.getSource();
  }
  return true;
}

/// Whether `op` (or an op nested in it) refers to `buffer` or to a view of
/// it, layout annotations aside.
bool touches(Operation *op, Value buffer) {
  return op
      ->walk([&](Operation *nested) {
        if (!isa<AnnotateLayoutOp>(nested) &&
            llvm::any_of(nested->getOperands(),
                         [&](Value v) { return refersTo(v, buffer); }))
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// Whether a store at `indices` in the body of `parallel` writes each
/// element of a buffer of `shape` once: its indices are the loop's own
/// variables in some order (a transposing store, o_s[i, j] = oT[j, i],
/// counts), each running over its dimension's whole extent.
bool storesEveryElement(ParallelOp parallel, ValueRange indices,
                        ArrayRef<int64_t> shape) {
  mlir::Block &body = parallel.getBody().front();
  ArrayRef<int64_t> extents = parallel.getExtents();
  if (indices.size() != body.getNumArguments() ||
      indices.size() != shape.size())
    return false;
  llvm::SmallBitVector seen(body.getNumArguments());
  for (auto [index, extent] : llvm::zip(indices, shape)) {
    auto arg = dyn_cast<BlockArgument>(index);
    if (!arg || arg.getOwner() != &body || seen.test(arg.getArgNumber()) ||
        extents[arg.getArgNumber()] != extent)
      return false;
    seen.set(arg.getArgNumber());
  }
  return true;
}

/// Whether `op` writes every element of `buffer` before reading any: a
/// copy or fill into the buffer itself (a tile that overhangs a tensor
/// reads zeros, so a copy writes all of it), or a Parallel over its whole
/// shape whose body stores to it at the loop's own indices (in any order),
/// unconditionally, before anything else in the body touches it.
bool overwritesWhole(Operation *op, Value buffer) {
  if (auto copy = dyn_cast<CopyOp>(op))
    return copy.getDst() == buffer && !refersTo(copy.getSrc(), buffer);
  if (auto fill = dyn_cast<FillOp>(op))
    return fill.getDst() == buffer;
  auto parallel = dyn_cast<ParallelOp>(op);
  if (!parallel)
    return false;
  for (Operation &nested : parallel.getBody().front()) {
    if (auto store = dyn_cast<StoreOp>(&nested);
        store && store.getBuffer() == buffer)
      return storesEveryElement(parallel, store.getIndices(),
                                cast<BufferType>(buffer.getType()).getShape());
    if (touches(&nested, buffer))
      return false;
  }
  return false;
}

/// Whether every iteration of the loop with body `body` overwrites the
/// whole of `buffer` before reading any of it, so that nothing in it is
/// live across the back edge: the first op of the body that touches it
/// overwrites it whole, or is a loop that runs at least once (constant
/// bounds) and does so in its first iteration.
bool overwrittenEachIteration(mlir::Block &body, Value buffer) {
  for (Operation &op : body) {
    if (!touches(&op, buffer))
      continue;
    if (overwritesWhole(&op, buffer))
      return true;
    auto inner = dyn_cast<scf::ForOp>(&op);
    if (!inner)
      return false;
    std::optional<int64_t> lb = getConstantIntValue(inner.getLowerBound()),
                           ub = getConstantIntValue(inner.getUpperBound());
    return lb && ub && *lb < *ub &&
           overwrittenEachIteration(*inner.getBody(), buffer);
  }
  return false;
}

} // namespace

std::pair<int64_t, int64_t> tlc::sharedLiveRange(AllocOp alloc,
                                                 const ProgramPoints &points,
                                                 Operation *launch,
                                                 bool iterationLocal) {
  int64_t first = points.end, last = points.span.lookup(alloc).first;
  auto cover = [&](Operation *op) {
    auto [from, to] = points.span.lookup(op);
    first = std::min(first, from);
    last = std::max(last, to);
  };
  SmallVector<Value> values{alloc.getResult()};
  while (!values.empty()) {
    Value value = values.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (isa<AnnotateLayoutOp>(user))
        continue;
      if (auto view = dyn_cast<ViewOp>(user))
        values.push_back(view.getResult());
      cover(user);
      if (auto gemm = dyn_cast<GemmOp>(user);
          gemm && gemm.getAsync() && gemm.getC() != value)
        cover(finishingWait(gemm));
      for (Operation *parent = user->getParentOp(); parent != launch;
           parent = parent->getParentOp()) {
        if (!isa<LoopLikeOpInterface>(parent)) {
          if (!isa<scf::IfOp>(parent))
            cover(parent);
          continue;
        }
        auto loop = dyn_cast<scf::ForOp>(parent);
        if (!parent->isAncestor(alloc) &&
            !(iterationLocal && loop &&
              overwrittenEachIteration(*loop.getBody(), alloc.getResult())))
          cover(parent);
      }
    }
  }
  return {std::min(first, last), last};
}
