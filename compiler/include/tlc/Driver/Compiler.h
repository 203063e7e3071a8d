//===- Compiler.h - The whole compilation, as a library --------*- C++ -*-===//
//
// One pipeline serves the `tlc` tool and applications that compile `.tl`
// source at run time: parse -> tile IR -> passes -> CUDA C++ -> NVRTC ->
// PTX + metadata. `jitCompile` adds an on-disk cache keyed by everything
// that determines the output, so a second process finds a kernel compiled by
// the first.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_DRIVER_COMPILER_H
#define TLC_DRIVER_COMPILER_H

#include "tlc/Codegen/CudaEmitter.h"

#include "mlir/Pass/PassManager.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace tlc {

/// "tlc 0.1.0 (commit 0123456789ab, LLVM/MLIR 22.1.8, NVRTC 13.0)": the
/// project version, the checkout's commit ("-dirty" with uncommitted
/// changes) and the libraries that decide the output.
std::string versionString();

/// The GPU targets the compiler lowers for: sm_90a (Hopper) and sm_80.
bool isSupportedArch(llvm::StringRef arch);

/// Adds the compiler's passes (tile IR -> IR ready for emission for the
/// target in `options`) to `pm`.
void addLoweringPasses(mlir::PassManager &pm, const CodegenOptions &options);

/// Fills the provenance fields of a kernel's metadata.
void stampMetadata(KernelArtifact &artifact, llvm::StringRef source,
                   llvm::ArrayRef<std::string> defines,
                   const CodegenOptions &options);

struct JitRequest {
  std::string source;
  /// Shown in diagnostics and #line directives.
  std::string filename = "<jit>.tl";
  /// The kernel to compile (a file may define several).
  std::string kernel;
  std::vector<std::string> defines;
  CodegenOptions codegen;
};

struct JitResult {
  std::string ptx;
  std::string metadata; // JSON, schema tlc.kernel/1
  bool cacheHit = false;
  std::string cachePath; // NAME-HASH.ptx in the cache directory
  /// The code generator's remarks (CodegenOptions::remarks), as printed
  /// diagnostics: always collected, and cached with the kernel.
  std::string remarks;
};

/// `$TLC_CACHE_DIR`, else `$XDG_CACHE_HOME/tlc`, else `~/.cache/tlc`.
std::string defaultCacheDir();

/// Compiles `request` on first use and caches PTX + metadata under a hash of
/// (source, kernel, defines, arch, compiler and NVRTC versions); entries are
/// written atomically (temporary file + rename). An empty `cacheDir` uses
/// defaultCacheDir(). Compile errors come back as the diagnostics' text.
llvm::Expected<JitResult> jitCompile(const JitRequest &request,
                                     llvm::StringRef cacheDir = {});

} // namespace tlc

#endif // TLC_DRIVER_COMPILER_H
