//===- PlanTma.cpp - TMA pipelines for Pipelined loops on sm_90a ---------===//
//
// Part of tlc. `tile-plan-tma` decides, for a kernel without explicit roles,
// which Pipelined loops' prefetch rings (tile-plan-prefetch) TMA fills and
// wgmma reads, whether a producer warpgroup issues the copies (warp
// specialisation), how the registers are split between it and the
// consumers (setmaxnreg), and how many wgmma groups stay in flight across
// iterations. It records the decision on the loop (`tile.tma_pipeline`) and
// the swizzle of every shared tile wgmma will read (`tile.swizzle`), so it
// can be printed and tested before code generation, which only reads it.
//
// A loop qualifies when every prefetched copy is a TMA box (HopperRules.h),
// its rings are used only by gemms, element reads and writes and whole-tile
// copies (the swizzled view has no slices), every gemm reading a ring fits
// wgmma with its other shared operand swizzled too, the producer can
// recompute the copies' coordinates and the loops around it from scalar
// code, and the block is whole warpgroups. Several loops of a kernel may
// qualify (one after another, or inside outer loops): they share the one
// producer warpgroup, each with its own rings and mbarriers. With `remarks`,
// every loop that does not qualify says which condition failed, and a TMA loop
// whose gemms must wait every iteration says what else its body runs.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/HopperRules.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace tlc;
using namespace tlc::tile;

namespace {

/// One Pipelined loop's prefetched copies, in program order.
struct RingLoop {
  scf::ForOp loop;
  int64_t stages = 0;
  SmallVector<CopyOp> copies;
};

/// The plan for one loop, as it is being checked.
struct Plan {
  llvm::MapVector<Operation *, int64_t> swizzleOf; // ring or operand alloc
  DenseSet<Operation *> rings;
  SmallVector<GemmOp> gemms;
};

class Planner {
public:
  Planner(LaunchOp launch, bool warpSpecialize, bool remarks)
      : launch(launch), warpSpecialize(warpSpecialize), remarks(remarks) {
    llvm::MapVector<Operation *, RingLoop> byLoop;
    launch.walk([&](CopyOp copy) {
      auto stages =
          copy->getAttrOfType<IntegerAttr>(TileDialect::getPrefetchAttrName());
      if (!stages)
        return;
      RingLoop &ring = byLoop[copy->getParentOp()];
      ring.loop = cast<scf::ForOp>(copy->getParentOp());
      ring.stages = stages.getInt();
      ring.copies.push_back(copy);
      allRings.insert(copy.getDst().getDefiningOp());
    });
    // In program order, as the producer will issue them.
    launch.walk([&](scf::ForOp loop) {
      if (byLoop.count(loop))
        loops.push_back(byLoop[loop]);
    });
  }

  void run() {
    for (RingLoop &ring : loops) {
      Plan plan;
      if (std::string why = check(ring, plan); !why.empty()) {
        decline(ring.loop, why);
        continue;
      }
      record(ring, plan);
    }
  }

private:
  void decline(scf::ForOp loop, const Twine &why) {
    if (remarks)
      loop->emitRemark(
          "Pipelined loop not lowered to TMA + wgmma (it keeps "
          "cp.async" +
          Twine(warpSpecialize ? " and no producer warpgroup" : "") +
          "): " + why);
  }

  int64_t blockThreads() { return static_cast<int64_t>(launch.getThreads()); }

  /// Why the loop cannot be a TMA pipeline, or "" (and `plan` filled).
  std::string check(const RingLoop &ring, Plan &plan);
  /// Why the shared tile `alloc` cannot be given wgmma's swizzle, or "":
  /// every user must read it through the swizzled view, and the gemms among
  /// them must be ones `inPipeline` accepts.
  std::string whyNotSwizzled(AllocOp alloc,
                             llvm::function_ref<bool(GemmOp)> inPipeline);
  /// Adds to the plan the loop's gemms that read no ring but can run on
  /// wgmma once their shared operands are swizzled.
  void addCompanionGemms(const RingLoop &ring, Plan &plan);
  /// wgmmaMisfit for the operands as the plan would leave them.
  std::string misfit(GemmOp gemm, const Plan &plan);
  /// Writes the decision into the IR.
  void record(const RingLoop &ring, const Plan &plan);

  LaunchOp launch;
  bool warpSpecialize, remarks;
  DenseSet<Operation *> allRings; // every loop's prefetch rings
  SmallVector<RingLoop> loops;
};

std::string Planner::check(const RingLoop &ring, Plan &plan) {
  scf::ForOp forOp = ring.loop;
  if (blockThreads() % 128)
    return "the block's " + std::to_string(blockThreads()) +
           " threads are not whole warpgroups";
  // The producer runs the loops around this one (an outer tile loop of a
  // persistent kernel, say): they must be plain loops over scalar bounds.
  auto uniformBounds = [](scf::ForOp f) {
    return llvm::all_of(
        ValueRange{f.getLowerBound(), f.getUpperBound(), f.getStep()},
        [](Value v) {
          Operation *def = v.getDefiningOp();
          return !def || isUniformScalarCode(def);
        });
  };
  if (!uniformBounds(forOp))
    return "its bounds are not scalar code the producer can recompute";
  for (Operation *parent = forOp->getParentOp(); parent != launch;
       parent = parent->getParentOp()) {
    auto outer = dyn_cast<scf::ForOp>(parent);
    if (!outer || !uniformBounds(outer))
      return "it is inside the " + sourceName(parent) + " at " +
             sourcePlace(parent) +
             ", which the producer cannot follow (only loops over scalar "
             "bounds)";
  }
  // Rings that gemms read are swizzled for wgmma; the others (a gate
  // vector, say) are plain row-major boxes.
  for (CopyOp copy : ring.copies) {
    BufferType tile = copy.getDst().getType();
    bool forGemm = llvm::any_of(copy.getDst().getUsers(), [&](Operation *user) {
      auto gemm = dyn_cast<GemmOp>(user);
      return gemm && gemm.getC() != copy.getDst();
    });
    int64_t swizzle = forGemm ? wgmmaSwizzle(tile) : 0;
    std::string why;
    if (forGemm && !swizzle)
      return "the copy at " + sourcePlace(copy) +
             " fills a shared tile wgmma cannot read swizzled (a 2-D bf16 "
             "or f16 tile with rows of 32, 64 or a multiple of 128 bytes)";
    if (!tmaBoxFor(copy.getSrc().getDefiningOp<ViewOp>(), tile, swizzle, &why))
      return "the copy at " + sourcePlace(copy) + " is not a TMA box: " + why;
    plan.swizzleOf[copy.getDst().getDefiningOp()] = swizzle;
    plan.rings.insert(copy.getDst().getDefiningOp());
  }
  // Besides wgmma, the consumers may read and write a ring's slot element
  // by element (masking rows, scaling by a gate) or copy it whole, all
  // through its swizzled view; a view of a part of it has no lowering.
  for (CopyOp copy : ring.copies) {
    for (Operation *user : copy.getDst().getUsers()) {
      if (user == copy.getOperation() || isa<LoadOp, StoreOp>(user))
        continue;
      if (auto other = dyn_cast<CopyOp>(user);
          other && !other->hasAttr(TileDialect::getPrefetchAttrName()))
        continue;
      auto gemm = dyn_cast<GemmOp>(user);
      if (!gemm || gemm.getC() == copy.getDst())
        return "the ring filled at " + sourcePlace(copy) +
               " is also used by the " + sourceName(user) + " at " +
               sourcePlace(user) +
               "; a TMA ring is read by gemms, element reads and writes and "
               "whole-tile copies";
      if (!llvm::is_contained(plan.gemms, gemm))
        plan.gemms.push_back(gemm);
    }
  }
  addCompanionGemms(ring, plan);
  // The gemms' other shared operands (a state copied from registers) become
  // swizzled too, when everything that touches them can use the swizzled
  // view and every gemm reading them is one of these.
  for (GemmOp gemm : plan.gemms) {
    for (Value operand : {gemm.getA(), gemm.getB()}) {
      auto alloc = operand.getDefiningOp<AllocOp>();
      if (!alloc || alloc.getType().getScope() != MemoryScope::Shared ||
          plan.swizzleOf.count(alloc) || annotatedSwizzle(alloc))
        continue;
      if (std::string cannot =
              whyNotSwizzled(alloc,
                             [&](GemmOp reader) {
                               return llvm::is_contained(plan.gemms, reader);
                             });
          !cannot.empty())
        return "the gemm at " + sourcePlace(gemm) +
               " cannot run on wgmma: its operand allocated at " +
               sourcePlace(alloc) + " cannot be swizzled: " + cannot;
      plan.swizzleOf[alloc] = wgmmaSwizzle(alloc.getType());
    }
  }
  for (GemmOp gemm : plan.gemms)
    if (std::string why = misfit(gemm, plan); !why.empty())
      return "the gemm at " + sourcePlace(gemm) +
             " cannot run on wgmma: " + why;
  // The producer recomputes the copies' coordinates: they may use only
  // scalar code.
  for (CopyOp copy : ring.copies)
    for (Value offset : copy.getSrc().getDefiningOp<ViewOp>().getOffsets())
      if (Operation *def = offset.getDefiningOp();
          def && !isUniformScalarCode(def))
        return "the coordinates of the copy at " + sourcePlace(copy) +
               " depend on the " + sourceName(def) + " at " + sourcePlace(def) +
               ", which the producer warpgroup cannot recompute";
  return "";
}

std::string
Planner::whyNotSwizzled(AllocOp alloc,
                        llvm::function_ref<bool(GemmOp)> inPipeline) {
  if (!wgmmaSwizzle(alloc.getType()))
    return "it is not a 2-D bf16 or f16 tile with rows of 32, 64 or a "
           "multiple of 128 bytes";
  if (allRings.contains(alloc))
    return "it is the ring of another pipelined loop";
  for (Operation *user : alloc->getUsers()) {
    if (isa<LoadOp, StoreOp, CopyOp, AnnotateLayoutOp>(user))
      continue;
    auto reader = dyn_cast<GemmOp>(user);
    if (!reader || !inPipeline(reader))
      return "the " + sourceName(user) + " at " + sourcePlace(user) +
             " uses it, which " +
             (reader ? "is not in this loop's TMA pipeline"
                     : "has no lowering on a swizzled tile");
  }
  return "";
}

// A gemm of the loop that reads no ring (a masked fragment times a tile the
// threads wrote, say) is on the loop's critical path all the same: it joins
// the pipeline's wgmma when all of its operands can be swizzled, and keeps
// mma.sync (correct, slower: the fragment is staged through shared memory)
// otherwise. Candidates that share an operand stand or fall together.
void Planner::addCompanionGemms(const RingLoop &ring, Plan &plan) {
  SetVector<GemmOp> candidates;
  scf::ForOp loop = ring.loop;
  loop.walk([&](GemmOp gemm) {
    Type elem = gemm.getA().getType().getElementType();
    if (!llvm::is_contained(plan.gemms, gemm) &&
        (elem.isBF16() || elem.isF16()) &&
        gemm.getC().getType().getScope() == MemoryScope::Fragment &&
        gemm.getB().getDefiningOp<AllocOp>() &&
        gemm.getA().getDefiningOp<AllocOp>())
      candidates.insert(gemm);
  });
  auto feasible = [&](GemmOp gemm) {
    Plan trial = plan;
    for (Value operand : {gemm.getA(), gemm.getB()}) {
      auto alloc = operand.getDefiningOp<AllocOp>();
      if (alloc.getType().getScope() != MemoryScope::Shared ||
          plan.swizzleOf.count(alloc) || annotatedSwizzle(alloc))
        continue;
      if (!whyNotSwizzled(alloc, [&](GemmOp reader) {
             return llvm::is_contained(plan.gemms, reader) ||
                    candidates.contains(reader);
           }).empty())
        return false;
      trial.swizzleOf[alloc] = wgmmaSwizzle(alloc.getType());
    }
    return misfit(gemm, trial).empty();
  };
  for (bool changed = true; changed;) {
    SmallVector<GemmOp> infeasible(llvm::make_filter_range(
        candidates, [&](GemmOp g) { return !feasible(g); }));
    for (GemmOp gemm : infeasible)
      candidates.remove(gemm);
    changed = !infeasible.empty();
  }
  plan.gemms.append(candidates.begin(), candidates.end());
}

std::string Planner::misfit(GemmOp gemm, const Plan &plan) {
  auto describe = [&](Value v) {
    WgmmaOperand operand;
    auto alloc = v.getDefiningOp<AllocOp>();
    if (!alloc)
      return operand;
    BufferType type = alloc.getType();
    if (type.getScope() == MemoryScope::Shared) {
      operand.where = WgmmaOperand::SharedTile;
      operand.swizzle = plan.swizzleOf.lookup(alloc);
      if (!operand.swizzle)
        operand.swizzle = annotatedSwizzle(alloc);
    } else if (type.getScope() == MemoryScope::Fragment) {
      operand.where = WgmmaOperand::Fragment;
      operand.f32 = type.getElementType().isF32();
      if (std::optional<MmaWarps> warps = mmaWarpsOf(alloc)) {
        operand.warpsM = warps->m;
        operand.warpsN = warps->n;
      }
    }
    return operand;
  };
  return wgmmaMisfit(gemm, describe(gemm.getA()), describe(gemm.getB()),
                     describe(gemm.getC()), blockThreads());
}

void Planner::record(const RingLoop &ring, const Plan &plan) {
  scf::ForOp forOp = ring.loop;
  // With nothing but copies and gemms in the body, each iteration's gemms
  // stay in flight while the next iteration waits for its data.
  Operation *other = nullptr;
  for (Operation &o : *forOp.getBody())
    if (!other &&
        !(isa<scf::YieldOp, ViewOp>(o) || isUniformScalarCode(&o) ||
          o.hasAttr(TileDialect::getPrefetchAttrName()) ||
          (isa<GemmOp>(o) && llvm::is_contained(plan.gemms, cast<GemmOp>(o)))))
      other = &o;
  int64_t waitDepth = 0, producerThreads = 0, producerRegs = 0,
          consumerRegs = 0;
  if (warpSpecialize) {
    if (!other && ring.stages >= 2)
      waitDepth = plan.gemms.size();
    if (other && remarks)
      forOp->emitRemark("Pipelined loop waits for its wgmma gemms every "
                        "iteration: the body also runs the " +
                        sourceName(other) + " at " + sourcePlace(other));
    producerThreads = 128;
    // setmaxnreg: the producer keeps 40 registers (24 when 40 would leave
    // the consumers fewer than 232, as with two blocks a multiprocessor),
    // the consumers share the rest, when that is more than the launch bound
    // already gives them.
    int64_t blocksPerSM = launch.getBlocksPerSM();
    int64_t file = launchRegisterFile(blocksPerSM);
    int64_t cap =
        launchRegisterCap(blockThreads() + producerThreads, blocksPerSM);
    auto shareLeft = [&](int64_t keep) {
      return std::min<int64_t>(240, (file - keep * producerThreads) /
                                        blockThreads() / 8 * 8);
    };
    int64_t keep = shareLeft(40) >= 232 ? 40 : 24;
    if (shareLeft(keep) > cap) {
      producerRegs = keep;
      consumerRegs = shareLeft(keep);
    }
  }
  Builder b(forOp->getContext());
  forOp->setAttr(
      TileDialect::getTmaPipelineAttrName(),
      b.getDictionaryAttr({
          b.getNamedAttr("producer_threads",
                         b.getI64IntegerAttr(producerThreads)),
          b.getNamedAttr("producer_regs", b.getI64IntegerAttr(producerRegs)),
          b.getNamedAttr("consumer_regs", b.getI64IntegerAttr(consumerRegs)),
          b.getNamedAttr("wait_depth", b.getI64IntegerAttr(waitDepth)),
      }));
  for (auto [alloc, swizzle] : plan.swizzleOf)
    if (swizzle)
      alloc->setAttr(TileDialect::getSwizzleAttrName(),
                     b.getI64IntegerAttr(swizzle));
}

struct PlanTmaPass : PassWrapper<PlanTmaPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlanTmaPass)

  PlanTmaPass() = default;
  PlanTmaPass(const PlanTmaPass &other) : PassWrapper(other) {}
  PlanTmaPass(bool warpSpecialize, bool remarks) {
    this->warpSpecialize = warpSpecialize;
    this->remarks = remarks;
  }

  Option<bool> warpSpecialize{
      *this, "warp-specialize",
      llvm::cl::desc("Add a producer warpgroup that issues the TMA copies"),
      llvm::cl::init(true)};
  Option<bool> remarks{*this, "remarks",
                       llvm::cl::desc("Report every Pipelined loop that does "
                                      "not get a TMA pipeline, and why"),
                       llvm::cl::init(false)};

  StringRef getArgument() const override { return "tile-plan-tma"; }
  StringRef getDescription() const override {
    return "Choose the Pipelined loops whose rings TMA fills and wgmma reads "
           "on sm_90a, the producer warpgroup, register split and wgmma "
           "wait depths (tile.tma_pipeline, tile.swizzle)";
  }

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      // Explicit roles do their own warp specialisation.
      if (!launch.getBody().front().getOps<RoleOp>().empty())
        return;
      Planner(launch, warpSpecialize, remarks).run();
    });
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createPlanTmaPass(bool warpSpecialize,
                                             bool remarks) {
  return std::make_unique<PlanTmaPass>(warpSpecialize, remarks);
}
