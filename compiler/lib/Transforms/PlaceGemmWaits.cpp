//===- PlaceGemmWaits.cpp - Wait for wgmma gemms only where needed -------===//
//
// Part of tlc. `tile-place-gemm-waits` (sm_90a, after tile-plan-tma) lets
// every gemm that may run on wgmma (one of its shared operands has a
// `tile.swizzle` or a swizzling annotate_layout) run asynchronously
// (`async`), and places one `tile.gemm_wait` right before the first op that
// needs its result or overwrites one of its operands, with the wait depth
// that leaves the gemms issued after it in flight (code generation recounts
// it over the gemms that really went to wgmma). Independent gemms and
// element-wise code written between a gemm and the first use of its result then
// overlap with it on the tensor cores, instead of each gemm paying its whole
// latency.
//
// Conflicts are read off the ops' declared memory effects (recursively
// through loops, ifs and Parallel bodies): an op conflicts with an
// unfinished gemm when it reads or writes the accumulator or writes A or B
// (through any slice of them). Effects on unknown values conflict. A gemm
// accumulating into the accumulator of an unfinished gemm of the same shape
// needs no wait: the tensor cores order them. Each block finishes the gemms
// it issued before its terminator, so a loop iteration (or an if branch)
// never leaves gemms in flight; the pipelines of tile-plan-tma that keep
// gemms in flight across iterations (`wait_depth` > 0) keep their own waits
// and are left alone.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace tlc::tile;

namespace {

/// The buffer a value slices (through tile.view), or the value itself.
Value rootBuffer(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewOp>())
    buffer = view.getSource();
  return buffer;
}

/// Whether code generation runs `gemm` on wgmma: one of its shared
/// operands is a swizzled tile (a ring slot of tile-plan-tma, or a buffer
/// with a swizzling tile.annotate_layout).
bool runsOnWgmma(GemmOp gemm) {
  for (Value operand : {gemm.getA(), gemm.getB()}) {
    auto alloc = rootBuffer(operand).getDefiningOp<AllocOp>();
    if (!alloc || alloc.getType().getScope() != MemoryScope::Shared)
      continue;
    if (alloc->hasAttr(TileDialect::getSwizzleAttrName()) ||
        annotatedSwizzle(alloc))
      return true;
  }
  return false;
}

/// Whether `loop` is a TMA pipeline whose gemms stay in flight across
/// iterations: its own waits order them.
bool keepsGemmsInFlight(Operation *op) {
  auto plan =
      op->getAttrOfType<DictionaryAttr>(TileDialect::getTmaPipelineAttrName());
  if (!plan)
    return false;
  auto depth = plan.getAs<IntegerAttr>("wait_depth");
  return depth && depth.getInt() > 0;
}

struct Unfinished {
  Value accumulator; // the gemm's C operand
  Value a, b, c;     // the root buffers of its operands
  Location loc;
};

class Placer {
public:
  void runOnBlock(Block &block) {
    SmallVector<Unfinished> unfinished;
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        waitFor(unfinished, unfinished.size(), &op);
        continue;
      }
      waitFor(unfinished, lastConflict(unfinished, &op), &op);
      auto gemm = dyn_cast<GemmOp>(&op);
      if (gemm && runsOnWgmma(gemm)) {
        gemm.setAsync(true);
        unfinished.push_back({gemm.getC(), rootBuffer(gemm.getA()),
                              rootBuffer(gemm.getB()), rootBuffer(gemm.getC()),
                              gemm.getLoc()});
        continue;
      }
      if (keepsGemmsInFlight(&op))
        continue;
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          runOnBlock(inner);
    }
    // A block without a terminator (the launch body) ends its gemms too.
    if (!unfinished.empty())
      waitFor(unfinished, unfinished.size(), nullptr, &block);
  }

private:
  /// One past the index of the last unfinished gemm `op` must wait for.
  size_t lastConflict(ArrayRef<Unfinished> unfinished, Operation *op) {
    if (unfinished.empty())
      return 0;
    // A TMA pipeline that keeps gemms in flight counts its own waits from
    // an empty queue.
    bool hasInFlightLoop = false;
    op->walk([&](Operation *inner) {
      hasInFlightLoop |= keepsGemmsInFlight(inner);
    });
    if (hasInFlightLoop)
      return unfinished.size();
    std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
        getEffectsRecursively(op);
    if (!effects)
      return unfinished.size();
    auto chained = [&](const Unfinished &u) {
      auto gemm = dyn_cast<GemmOp>(op);
      return gemm && runsOnWgmma(gemm) && !gemm.getClearAccum() &&
             rootBuffer(gemm.getC()) == u.c &&
             gemm.getC().getType() == u.accumulator.getType() &&
             rootBuffer(gemm.getA()) != u.c;
    };
    size_t last = 0;
    for (auto [index, u] : llvm::enumerate(unfinished)) {
      for (const MemoryEffects::EffectInstance &effect : *effects) {
        bool reads = isa<MemoryEffects::Read>(effect.getEffect());
        bool writes = isa<MemoryEffects::Write>(effect.getEffect());
        if (!reads && !writes)
          continue;
        Value value = effect.getValue();
        if (!value) {
          last = index + 1;
          break;
        }
        Value root = rootBuffer(value);
        bool conflict = (root == u.c && !chained(u)) ||
                        (writes && (root == u.a || root == u.b));
        if (conflict) {
          last = index + 1;
          break;
        }
      }
    }
    return last;
  }

  /// Finishes the first `count` unfinished gemms with a tile.gemm_wait
  /// before `before` (or at the end of `atEnd`).
  void waitFor(SmallVector<Unfinished> &unfinished, size_t count,
               Operation *before, Block *atEnd = nullptr) {
    if (count == 0)
      return;
    llvm::SetVector<Value> finished;
    for (const Unfinished &u : ArrayRef(unfinished).take_front(count))
      finished.insert(u.accumulator);
    OpBuilder builder(before ? before->getContext()
                             : atEnd->getParentOp()->getContext());
    if (before)
      builder.setInsertionPoint(before);
    else
      builder.setInsertionPointToEnd(atEnd);
    Location loc = before ? before->getLoc() : unfinished[count - 1].loc;
    GemmWaitOp::create(builder, loc, finished.getArrayRef(),
                       int64_t(unfinished.size() - count));
    unfinished.erase(unfinished.begin(), unfinished.begin() + count);
  }
};

struct PlaceGemmWaitsPass
    : PassWrapper<PlaceGemmWaitsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlaceGemmWaitsPass)

  StringRef getArgument() const override { return "tile-place-gemm-waits"; }
  StringRef getDescription() const override {
    return "Run wgmma gemms asynchronously and wait for each right before "
           "the first op that needs it finished (tile.gemm_wait)";
  }

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      Placer().runOnBlock(launch.getBody().front());
    });
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createPlaceGemmWaitsPass() {
  return std::make_unique<PlaceGemmWaitsPass>();
}
