//===- Passes.h - tlc's transformation passes ------------------*- C++ -*-===//

#ifndef TLC_TRANSFORMS_PASSES_H
#define TLC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace tlc {

/// `tile-infer-layouts`: gives every fragment allocation a thread<->element
/// layout (`tile.layout`): gemm accumulators get the mma.sync layout with a
/// warp split that fits the tile, every other fragment the strided layout.
/// `preferWgmma` picks, where it fits, the split wgmma's accumulators have.
std::unique_ptr<mlir::Pass> createInferLayoutsPass(bool preferWgmma = false);

/// `tile-check-channels`: rejects channels whose puts and gets cannot be
/// proved to run equally often, and roles whose channel traffic, run with
/// `stages` slots per ring, leaves every unfinished role waiting (deadlocks
/// between roles), at compile time.
std::unique_ptr<mlir::Pass> createCheckChannelsPass();

/// `tile-plan-prefetch`: marks each global->shared copy of a `Pipelined`
/// loop that is prefetched into a ring of `tile.num_stages` shared buffers
/// with `tile.prefetch = S`; with `remarks`, reports every copy that is not,
/// and why.
std::unique_ptr<mlir::Pass> createPlanPrefetchPass(bool remarks = false);

/// `tile-plan-tma` (sm_90a): chooses, in a kernel without roles, the
/// Pipelined loops whose prefetch rings TMA fills and wgmma reads, with one
/// producer warpgroup for all of them when `warpSpecialize`, and records it
/// on each loop (`tile.tma_pipeline`) and on the shared tiles wgmma reads
/// (`tile.swizzle`); with `remarks`, reports every loop that does not get
/// one, and why.
std::unique_ptr<mlir::Pass> createPlanTmaPass(bool warpSpecialize = true,
                                              bool remarks = false);

/// `tile-place-gemm-waits` (sm_90a, after tile-plan-tma): marks the gemms
/// that run on wgmma `async` and inserts a `tile.gemm_wait` right before the
/// first op that needs each one finished (reads or writes its accumulator,
/// or writes an operand), so independent work overlaps with it.
std::unique_ptr<mlir::Pass> createPlaceGemmWaitsPass();

/// `tile-check-gpu-support` (first in the GPU pipeline; not for the
/// interpreter): rejects at the op what the CUDA code generator cannot lower
/// (gemm with an f16 accumulator or i8 inputs, atomic_add into i64, i8 or
/// bool, a fragment past 255 registers a thread).
std::unique_ptr<mlir::Pass> createCheckGpuSupportPass();

/// Registers all tlc passes with the global registry (for tlc-opt).
void registerPasses();

} // namespace tlc

#endif // TLC_TRANSFORMS_PASSES_H
