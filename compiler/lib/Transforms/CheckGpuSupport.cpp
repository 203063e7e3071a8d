//===- CheckGpuSupport.cpp - What the GPU code generator can lower -------===//
//
// Part of tlc. `tile-check-gpu-support` runs first in the GPU pipeline and
// rejects, at the op, programs the language and the interpreter accept but
// the CUDA code generator cannot lower: gemm with an f16 accumulator or i8
// inputs, atomic_add into i64, i8 or bool (CUDA has no such atomics), and a
// fragment whose share of a thread exceeds the 255 registers a thread has
// (it could only live in local memory, and its fully unrolled element
// loops take NVRTC minutes). The interpreter does not run this pass.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"
#include "tlc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
using namespace tlc::tile;

namespace {

/// The threads that share a fragment allocated at `alloc`: its role's, or
/// the launch's.
int64_t teamThreads(AllocOp alloc) {
  if (auto role = alloc->getParentOfType<RoleOp>())
    return int64_t(role.getWarps()) * 32;
  if (auto launch = alloc->getParentOfType<LaunchOp>())
    return int64_t(launch.getThreads());
  return 0;
}

LogicalResult checkFragment(AllocOp alloc) {
  BufferType type = alloc.getType();
  int64_t threads = teamThreads(alloc);
  if (type.getScope() != MemoryScope::Fragment || threads <= 0)
    return success();
  int64_t elements = 1;
  for (int64_t e : type.getShape())
    elements *= e;
  int64_t perThread = llvm::divideCeil(elements, threads);
  int64_t bytes =
      std::max<int64_t>(type.getElementType().getIntOrFloatBitWidth() / 8, 1);
  int64_t registers = llvm::divideCeil(perThread * bytes, 4);
  if (registers <= 255)
    return success();
  return alloc.emitError()
         << "code generation: fragment '" << alloc.getName().value_or("buf")
         << "' (" << formatShape(type.getShape()) << " "
         << formatType(type.getElementType()) << ") gives each of " << threads
         << " threads " << perThread << " elements, about " << registers
         << " registers, more than the 255 a thread has; use a smaller tile "
            "or more threads";
}

LogicalResult checkGemm(GemmOp gemm) {
  if (gemm.getC().getType().getElementType().isF16())
    return gemm.emitError("code generation: gemm with an f16 accumulator is "
                          "not supported on the GPU yet (the interpreter runs "
                          "it); accumulate in f32");
  if (gemm.getA().getType().getElementType().isSignlessInteger(8))
    return gemm.emitError("code generation: gemm on i8 inputs is not "
                          "supported on the GPU yet (the interpreter runs it)");
  return success();
}

LogicalResult checkAtomicAdd(AtomicAddOp atomic) {
  Type type = atomic.getDst().getType().getElementType();
  if (!type.isInteger(64) && !type.isInteger(8) && !type.isInteger(1))
    return success();
  return atomic.emitError()
         << "code generation: atomic_add into "
         << (type.isInteger(1) ? std::string("bool") : formatType(type))
         << " is not supported on the GPU (CUDA has no such atomic; the "
            "interpreter runs it); use i32, f32, f16, bf16 or f64";
}

struct CheckGpuSupportPass
    : PassWrapper<CheckGpuSupportPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckGpuSupportPass)

  StringRef getArgument() const override { return "tile-check-gpu-support"; }
  StringRef getDescription() const override {
    return "Reject what the GPU code generator cannot lower, at the op";
  }

  void runOnOperation() override {
    WalkResult result = getOperation().walk([](Operation *op) {
      LogicalResult ok = success();
      if (auto alloc = dyn_cast<AllocOp>(op))
        ok = checkFragment(alloc);
      else if (auto gemm = dyn_cast<GemmOp>(op))
        ok = checkGemm(gemm);
      else if (auto atomic = dyn_cast<AtomicAddOp>(op))
        ok = checkAtomicAdd(atomic);
      return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> tlc::createCheckGpuSupportPass() {
  return std::make_unique<CheckGpuSupportPass>();
}
