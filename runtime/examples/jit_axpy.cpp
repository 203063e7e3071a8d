//===- jit_axpy.cpp - Compiling a .tl kernel at run time with tlc::jit ----===//
//
// A program that carries its kernel as source: it compiles `axpy` of the
// given .tl file through tlc::jit (the on-disk cache makes a second run a
// lookup), then loads the PTX with the runtime. Loading needs the NVIDIA
// driver; without one the program says so and still exits 0, since the
// compile is what it demonstrates there.
//
//   jit_axpy FILE.tl CACHE_DIR [NAME=VALUE ...]   (prints "compiled" or
//                                                 "cache hit", the PTX size)
//
//===----------------------------------------------------------------------===//

#include "tlc/Driver/Jit.h"
#include "tlc/runtime/Runtime.h"

#include <cstdio>
#include <fstream>
#include <sstream>

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE.tl CACHE_DIR [NAME=VALUE ...]\n",
                 argv[0]);
    return 2;
  }
  std::ifstream file(argv[1]);
  if (!file) {
    std::fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[1]);
    return 2;
  }
  std::stringstream source;
  source << file.rdbuf();

  tlc::jit::Options options;
  options.filename = argv[1];
  options.cacheDir = argv[2];
  for (int i = 3; i < argc; ++i)
    options.defines.push_back(argv[i]);
  tlc::jit::Kernel kernel;
  std::string error;
  if (!tlc::jit::compile(source.str(), "axpy", options, kernel, error)) {
    std::fprintf(stderr, "%s", error.c_str());
    return 1;
  }
  std::printf("%s: %s, %zu bytes of PTX (%s)\n", tlc::jit::version().c_str(),
              kernel.cacheHit ? "cache hit" : "compiled", kernel.ptx.size(),
              kernel.cachePath.c_str());

  namespace rt = tlc::rt;
  if (rt::Status s = rt::initDevice(0); !s.ok()) {
    std::printf("not loaded: %s\n", s.message().c_str());
    return 0;
  }
  rt::Expected<rt::Module> module =
      rt::Module::load(kernel.ptx, kernel.metadata);
  if (!module) {
    std::fprintf(stderr, "%s\n", module.status().message().c_str());
    return 1;
  }
  std::printf("loaded %s\n", module->kernel().info().name.c_str());
  return 0;
}
