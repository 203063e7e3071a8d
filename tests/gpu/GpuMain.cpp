//===- GpuMain.cpp - Entry of the GPU tests: skip visibly without a GPU ---===//

#define CATCH_CONFIG_RUNNER
#include "GpuTestUtil.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

namespace {
uint64_t seed;
}

std::string tlc::gputest::kernelDir() {
  const char *dir = std::getenv("TLC_GPU_KERNELS");
  return dir ? dir : TLC_GPU_KERNELS_DEFAULT;
}

std::mt19937_64 &tlc::gputest::rng() {
  static std::mt19937_64 generator(seed);
  return generator;
}

int main(int argc, char **argv) {
  tlc::rt::Status status = tlc::rt::initDevice(0);
  if (!status.ok()) {
    std::printf("GPU tests SKIPPED: %s\n", status.message().c_str());
    return 77; // CTest's SKIP_RETURN_CODE.
  }
  seed = std::random_device{}();
  if (const char *fixed = std::getenv("TLC_TEST_SEED"))
    seed = std::strtoull(fixed, nullptr, 10);
  std::printf("GPU tests: seed %llu (TLC_TEST_SEED reproduces a run)\n",
              static_cast<unsigned long long>(seed));
  int result = Catch::Session().run(argc, argv);
  tlc::rt::ModuleCache::clear();
  return result;
}
