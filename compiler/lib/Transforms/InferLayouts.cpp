//===- InferLayouts.cpp - Thread<->element layouts of fragments -----------===//
//
// A fragment is a tile spread over the threads of the block. Its layout is
// fixed by the op that constrains it most: a gemm accumulator must use the
// mma.sync accumulator layout (a warp split WM x WN of the M x N tile, in
// 16x8 sub-tiles); everything else uses the strided layout (element e in
// thread e % T), under which same-shape fragments line up register for
// register, so element-wise Parallel loops need no data movement.
//
// With `wgmma=true` (the sm_90a pipeline) an M x N accumulator with M equal
// to 16 x warps and a multiple of 64 takes the split (warps, 1): it is both a
// valid mma.sync layout and exactly the layout of wgmma's m64 accumulators
// (warpgroup g owns rows 64g..64g+63), so the Hopper back end can lower the
// gemm to wgmma without moving data.
//
// Fragments allocated in a `tile.role` spread over that role's warps. With
// `wgmma=true`, a fragment used as a gemm's A operand (M rows, 16 x warps)
// takes the same split, so wgmma can read it from registers.
//
// A fragment no gemm constrains takes the layout of the forced fragments it
// meets in element-wise `tile.parallel` loops over its shape (a product of
// two accumulators kept for a reduction, say), when they agree: a loop's
// fragments then share one layout and it needs no staging. Otherwise it is
// strided.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace tlc;
using namespace tlc::tile;

namespace {

/// Picks the warp split of an M x N accumulator over `warps` warps whose
/// warp tiles are whole 16x8 mma tiles, preferring square-ish warp tiles.
std::optional<std::pair<int64_t, int64_t>>
chooseWarpSplit(int64_t m, int64_t n, int64_t warps, bool preferWgmma) {
  if (preferWgmma && m == 16 * warps && m % 64 == 0 && n % 8 == 0)
    return std::make_pair(warps, int64_t(1));
  std::optional<std::pair<int64_t, int64_t>> best;
  int64_t bestCost = 0;
  for (int64_t wm = 1; wm <= warps; ++wm) {
    if (warps % wm)
      continue;
    int64_t wn = warps / wm;
    if (m % (16 * wm) || n % (8 * wn))
      continue;
    int64_t cost = m / wm + n / wn; // Shared-memory traffic per k step.
    if (!best || cost < bestCost) {
      best = {wm, wn};
      bestCost = cost;
    }
  }
  return best;
}

struct InferLayoutsPass
    : PassWrapper<InferLayoutsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(InferLayoutsPass)

  InferLayoutsPass() = default;
  InferLayoutsPass(const InferLayoutsPass &other) : PassWrapper(other) {}
  explicit InferLayoutsPass(bool preferWgmma) { wgmma = preferWgmma; }

  Option<bool> wgmma{*this, "wgmma",
                     llvm::cl::desc("Prefer accumulator layouts that wgmma "
                                    "(sm_90a) produces directly"),
                     llvm::cl::init(false)};

  StringRef getArgument() const override { return "tile-infer-layouts"; }
  StringRef getDescription() const override {
    return "Choose thread<->element layouts for fragment buffers";
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Builder b(&getContext());
    func.walk([&](LaunchOp launch) {
      int64_t warps = static_cast<int64_t>(launch.getThreads()) / 32;
      // Accumulators first: their layout is forced.
      DenseMap<Operation *, GemmOp> accumulators;
      launch.walk([&](GemmOp gemm) {
        Operation *def = gemm.getC().getDefiningOp();
        if (auto alloc = dyn_cast_or_null<AllocOp>(def))
          accumulators.try_emplace(alloc, gemm);
      });
      // With wgmma, a fragment A operand takes the accumulator layout of its
      // rows: its registers are then exactly wgmma's A registers.
      DenseMap<Operation *, GemmOp> registerOperands;
      if (wgmma)
        launch.walk([&](GemmOp gemm) {
          auto alloc = gemm.getA().getDefiningOp<AllocOp>();
          if (alloc && !gemm.getTransposeA() &&
              alloc.getType().getScope() == MemoryScope::Fragment &&
              !accumulators.count(alloc))
            registerOperands.try_emplace(alloc, gemm);
        });
      SmallVector<AllocOp> unconstrained;
      launch.walk([&](AllocOp alloc) {
        if (alloc.getType().getScope() != MemoryScope::Fragment)
          return;
        auto it = accumulators.find(alloc);
        if (it == accumulators.end()) {
          ArrayRef<int64_t> shape = alloc.getType().getShape();
          int64_t teamWarps = warps;
          if (auto role = alloc->getParentOfType<RoleOp>())
            teamWarps = static_cast<int64_t>(role.getWarps());
          if (registerOperands.count(alloc) && shape[0] == 16 * teamWarps &&
              shape[0] % 64 == 0 && shape[1] % 16 == 0) {
            alloc->setAttr(
                TileDialect::getLayoutAttrName(),
                b.getDictionaryAttr(
                    {b.getNamedAttr("kind", b.getStringAttr("mma")),
                     b.getNamedAttr("warps_m", b.getI64IntegerAttr(teamWarps)),
                     b.getNamedAttr("warps_n", b.getI64IntegerAttr(1))}));
            return;
          }
          unconstrained.push_back(alloc);
          return;
        }
        ArrayRef<int64_t> shape = alloc.getType().getShape();
        // A fragment of a warp-specialisation role spreads over its warps.
        int64_t teamWarps = warps;
        if (auto role = alloc->getParentOfType<RoleOp>())
          teamWarps = static_cast<int64_t>(role.getWarps());
        auto split = chooseWarpSplit(shape[0], shape[1], teamWarps, wgmma);
        if (!split) {
          it->second.emitError()
              << "gemm: the " << shape[0] << "x" << shape[1]
              << " accumulator cannot be split over " << teamWarps
              << " warps in 16x8 mma tiles (M must be a multiple of 16 and N "
                 "of 8 per warp)";
          signalPassFailure();
          return;
        }
        alloc->setAttr(
            TileDialect::getLayoutAttrName(),
            b.getDictionaryAttr(
                {b.getNamedAttr("kind", b.getStringAttr("mma")),
                 b.getNamedAttr("warps_m", b.getI64IntegerAttr(split->first)),
                 b.getNamedAttr("warps_n",
                                b.getI64IntegerAttr(split->second))}));
      });
      propagateThroughLoops(launch, unconstrained, b);
    });
  }

  /// Gives each unconstrained fragment the one layout of the laid-out
  /// fragments it shares element loops over its shape with (to a fixed
  /// point, so a chain of temporaries follows its accumulator), or strided.
  static void propagateThroughLoops(LaunchOp launch,
                                    ArrayRef<AllocOp> unconstrained,
                                    Builder &b) {
    auto fragmentOf = [](Value buffer) -> AllocOp {
      auto alloc = buffer.getDefiningOp<AllocOp>();
      if (alloc && alloc.getType().getScope() == MemoryScope::Fragment)
        return alloc;
      return nullptr;
    };
    // Fragments accessed in each loop whose shape is the loop's.
    SmallVector<SmallVector<AllocOp>> loops;
    launch.walk([&](ParallelOp loop) {
      SmallVector<AllocOp> &members = loops.emplace_back();
      ArrayRef<int64_t> extents = loop.getExtents();
      loop.walk([&](Operation *op) {
        Value buffer;
        if (auto load = dyn_cast<LoadOp>(op))
          buffer = load.getBuffer();
        else if (auto store = dyn_cast<StoreOp>(op))
          buffer = store.getBuffer();
        AllocOp alloc = buffer ? fragmentOf(buffer) : nullptr;
        if (alloc && llvm::equal(alloc.getType().getShape(), extents) &&
            !llvm::is_contained(members, alloc))
          members.push_back(alloc);
      });
    });
    DenseSet<Operation *> pending;
    for (AllocOp alloc : unconstrained)
      pending.insert(alloc);
    for (bool changed = true; changed;) {
      changed = false;
      for (AllocOp alloc : unconstrained) {
        if (!pending.count(alloc))
          continue;
        Attribute layout;
        bool conflict = false;
        for (ArrayRef<AllocOp> members : loops) {
          if (!llvm::is_contained(members, alloc))
            continue;
          for (AllocOp other : members) {
            if (pending.count(other))
              continue;
            Attribute theirs = other->getAttr(TileDialect::getLayoutAttrName());
            if (layout && theirs != layout)
              conflict = true;
            layout = theirs;
          }
        }
        if (!layout || conflict)
          continue;
        alloc->setAttr(TileDialect::getLayoutAttrName(), layout);
        pending.erase(alloc);
        changed = true;
      }
    }
    for (AllocOp alloc : unconstrained)
      if (pending.count(alloc))
        alloc->setAttr(TileDialect::getLayoutAttrName(),
                       b.getDictionaryAttr(
                           b.getNamedAttr("kind", b.getStringAttr("strided"))));
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createInferLayoutsPass(bool preferWgmma) {
  return std::make_unique<InferLayoutsPass>(preferWgmma);
}

void tlc::registerPasses() {
  PassRegistration<InferLayoutsPass>(
      [] { return std::make_unique<InferLayoutsPass>(); });
  registerPass([] { return createCheckChannelsPass(); });
  registerPass([] { return createCheckGpuSupportPass(); });
  registerPass([] { return createPlanPrefetchPass(); });
  registerPass([] { return createPlanTmaPass(); });
  registerPass([] { return createPlaceGemmWaitsPass(); });
}
