//===- Jit.h - tlc::jit: compile .tl source at run time --------*- C++ -*-===//
//
// The compiler as an installed library for applications that compile kernels
// while they run (a serving engine at start-up, a notebook): `.tl` source in,
// PTX and the runtime's kernel metadata out, through the on-disk cache of
// tlc::jitCompile (Compiler.h). Plain standard C++ on purpose: a program
// links `tlc::jit` (libtlc_jit.so) without LLVM or MLIR headers, and loads
// the result with tlc::rt::Module::load (tlc/runtime/Runtime.h).
//
//===----------------------------------------------------------------------===//

#ifndef TLC_DRIVER_JIT_H
#define TLC_DRIVER_JIT_H

#include <string>
#include <vector>

#if defined(TLC_JIT_BUILD)
#define TLC_JIT_API __attribute__((visibility("default")))
#else
#define TLC_JIT_API
#endif

namespace tlc::jit {

struct Options {
  /// The GPU target: "sm_90a" (Hopper, TMA and wgmma) or "sm_80".
  std::string arch = "sm_90a";
  /// Compile-time parameters as `tlc -D`: "NAME=VALUE".
  std::vector<std::string> defines;
  /// Where compiled kernels are kept across processes. Empty:
  /// $TLC_CACHE_DIR, else $XDG_CACHE_HOME/tlc, else ~/.cache/tlc.
  std::string cacheDir;
  /// The name diagnostics and the PTX's line table show for the source.
  std::string filename = "<jit>.tl";
};

struct Kernel {
  std::string ptx;
  /// JSON, schema tlc.kernel/1 (docs/runtime.md, section 1).
  std::string metadata;
  /// Where the compiler left a faster form unused, and why.
  std::string remarks;
  /// The cache entry (NAME-HASH.ptx, .json beside it).
  std::string cachePath;
  bool cacheHit = false;
};

/// Compiles kernel `kernel` of `source` (or finds it in the cache). On
/// failure returns false and sets `error` to the compiler's diagnostics
/// (`file.tl:LINE:COL: error: ...` with the line and a caret).
TLC_JIT_API bool compile(const std::string &source, const std::string &kernel,
                         const Options &options, Kernel &out,
                         std::string &error);

/// "tlc VERSION (commit C, LLVM/MLIR V, NVRTC V)": the compiler a cache
/// entry depends on.
TLC_JIT_API std::string version();

} // namespace tlc::jit

#endif // TLC_DRIVER_JIT_H
