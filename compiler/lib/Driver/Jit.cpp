//===- Jit.cpp - tlc::jit over tlc::jitCompile ----------------------------===//

#include "tlc/Driver/Jit.h"

#include "tlc/Driver/Compiler.h"

using namespace tlc;

bool jit::compile(const std::string &source, const std::string &kernel,
                  const Options &options, Kernel &out, std::string &error) {
  JitRequest request;
  request.source = source;
  request.filename = options.filename;
  request.kernel = kernel;
  request.defines = options.defines;
  request.codegen.arch = options.arch;
  llvm::Expected<JitResult> result = jitCompile(request, options.cacheDir);
  if (!result) {
    error = llvm::toString(result.takeError());
    return false;
  }
  out.ptx = std::move(result->ptx);
  out.metadata = std::move(result->metadata);
  out.remarks = std::move(result->remarks);
  out.cachePath = std::move(result->cachePath);
  out.cacheHit = result->cacheHit;
  return true;
}

std::string jit::version() { return versionString(); }
