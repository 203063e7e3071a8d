//===- PlanPrefetch.cpp - Prefetch rings for Pipelined loops -------------===//
//
// Part of tlc. `tile-plan-prefetch` decides, for every `Pipelined` loop
// (an scf.for with tile.num_stages = S >= 2), which global->shared copies
// of its body are prefetched S - 1 iterations ahead into a ring of S shared
// buffers, and records the decision on the copy (`tile.prefetch = S`), so it
// can be printed and tested before code generation. A copy qualifies when
// every other use of its destination is in the loop, after the copy (code
// that masks or scales the tile in place once it has landed is fine): each
// iteration then sees only the tile its own copy brought, so replacing the
// buffer by a ring of slots, one per iteration in flight, changes no value.
// Every copy that does not qualify gets a remark (with `remarks`) naming the
// reason, so a slow path is never silent.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
using namespace tlc::tile;

namespace {

/// Why `copy` in `loop` cannot be prefetched into a ring, or "" when it can.
/// `rings` holds the buffers already given to another loop's ring.
std::string whyNotPrefetched(scf::ForOp loop, CopyOp copy,
                             const DenseSet<Operation *> &rings) {
  auto view = copy.getSrc().getDefiningOp<ViewOp>();
  auto alloc = copy.getDst().getDefiningOp<AllocOp>();
  if (!alloc || alloc.getType().getScope() != MemoryScope::Shared)
    return "its destination is not a shared buffer (copy into shared memory "
           "first to pipeline it)";
  if (!view || view->getBlock() != loop.getBody() ||
      !isa<BlockArgument>(view.getSource()))
    return "its source is not a tile of a kernel tensor sliced in the loop "
           "body";
  if (loop->isAncestor(alloc))
    return "its destination is allocated inside the loop";
  if (view.getType().getElementType() != alloc.getType().getElementType())
    return "it converts " + formatType(view.getType().getElementType()) +
           " to " + formatType(alloc.getType().getElementType()) +
           "; a ring holds the tensor's type";
  if (rings.contains(alloc))
    return "its destination is already the ring of another loop";
  for (Operation *user : alloc->getUsers()) {
    if (user == copy)
      continue;
    if (!loop->isAncestor(user))
      return "its destination is used outside the loop, by the " +
             sourceName(user) + " at " + sourcePlace(user) +
             "; a ring lives only in the loop";
    Operation *step = loop.getBody()->findAncestorOpInBlock(*user);
    if (!copy->isBeforeInBlock(step))
      return "its destination is used before the copy in the loop body, by "
             "the " +
             sourceName(user) + " at " + sourcePlace(user) +
             ", which sees the previous iteration's tile; in a ring it would "
             "see this one's";
  }
  return "";
}

struct PlanPrefetchPass
    : PassWrapper<PlanPrefetchPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlanPrefetchPass)

  PlanPrefetchPass() = default;
  PlanPrefetchPass(const PlanPrefetchPass &other) : PassWrapper(other) {}
  explicit PlanPrefetchPass(bool remarks) { this->remarks = remarks; }

  Option<bool> remarks{*this, "remarks",
                       llvm::cl::desc("Report every copy of a Pipelined loop "
                                      "that is not prefetched, and why"),
                       llvm::cl::init(false)};

  StringRef getArgument() const override { return "tile-plan-prefetch"; }
  StringRef getDescription() const override {
    return "Choose the copies of Pipelined loops that are prefetched into "
           "rings of shared buffers (tile.prefetch)";
  }

  void runOnOperation() override {
    DenseSet<Operation *> rings;
    getOperation().walk([&](scf::ForOp loop) {
      auto stages =
          loop->getAttrOfType<IntegerAttr>(TileDialect::getNumStagesAttrName());
      if (!stages || stages.getInt() < 2)
        return;
      if (loop.getNumResults()) {
        remark(loop, "Pipelined loop not pipelined: it yields values");
        return;
      }
      bool any = false;
      for (Operation &op : *loop.getBody()) {
        auto copy = dyn_cast<CopyOp>(&op);
        if (!copy || copy.getSrc().getType().getScope() != MemoryScope::Global)
          continue;
        std::string why = whyNotPrefetched(loop, copy, rings);
        if (!why.empty()) {
          remark(copy, "copy not prefetched into a ring of " +
                           Twine(stages.getInt()) + " stages: " + why);
          continue;
        }
        copy->setAttr(TileDialect::getPrefetchAttrName(), stages);
        rings.insert(copy.getDst().getDefiningOp());
        any = true;
      }
      if (!any)
        remark(loop, "Pipelined loop not pipelined: no copy from global "
                     "memory in its body can be prefetched");
    });
  }

  void remark(Operation *op, const Twine &why) {
    if (remarks)
      op->emitRemark(why);
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createPlanPrefetchPass(bool remarks) {
  return std::make_unique<PlanPrefetchPass>(remarks);
}
