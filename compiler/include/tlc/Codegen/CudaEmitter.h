//===- CudaEmitter.h - Tile dialect to CUDA C++ and PTX --------*- C++ -*-===//
//
// The first code-generation path: each `tile.kernel` function (after layout
// inference) becomes one readable CUDA C++ kernel calling the device library
// (runtime/device/include/tlc/device/tlc.cuh), plus its launch metadata
// (schema `tlc.kernel/1`, docs/runtime.md). NVRTC compiles it in process to
// PTX and, optionally, a cubin.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_CODEGEN_CUDAEMITTER_H
#define TLC_CODEGEN_CUDAEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace tlc {

struct CodegenOptions {
  /// NVRTC target: sm_90a (Hopper, default) or sm_80.
  std::string arch = "sm_90a";
  /// Also produce a cubin (needs an architecture-specific target).
  bool cubin = false;
  /// sm_90a: lower eligible `Pipelined` loops to TMA + mbarrier rings and
  /// their gemms to wgmma (docs/architecture.md, "Hopper pipelines").
  bool tma = true;
  /// sm_90a: give such loops a producer warpgroup that issues the TMA copies
  /// while the block's warpgroups compute, with setmaxnreg per role.
  bool warpSpecialize = true;
  /// Report, as MLIR remarks at the .tl line, every place where a faster
  /// form (a prefetch ring, TMA + wgmma, gemms left in flight) was not used,
  /// and why (`tlc --remarks`).
  bool remarks = false;
};

struct KernelArtifact {
  std::string name;
  std::string cuda;
  llvm::json::Object metadata;
  std::string ptx;
  std::string cubin;
};

/// Lowers every `tile.kernel` function of `module` (which must have been
/// through `tile-infer-layouts`) to CUDA C++ and metadata. Reports errors as
/// MLIR diagnostics at the offending op's location.
mlir::FailureOr<std::vector<KernelArtifact>>
emitCuda(mlir::ModuleOp module, const CodegenOptions &options);

/// Compiles `artifact.cuda` with NVRTC into `artifact.ptx` (and `.cubin`).
/// On failure returns the NVRTC log, whose locations are `.tl` lines thanks
/// to the `#line` directives in the generated code.
mlir::LogicalResult compileWithNvrtc(KernelArtifact &artifact,
                                     const CodegenOptions &options,
                                     std::string &log);

/// The device library sources embedded in the compiler: tlc.cuh and the
/// generated wgmma wrappers it includes for sm_90a.
llvm::StringRef deviceLibrarySource();
llvm::StringRef deviceWgmmaSource();

/// "13.0": the NVRTC version linked into the compiler.
std::string nvrtcVersion();

} // namespace tlc

#endif // TLC_CODEGEN_CUDAEMITTER_H
