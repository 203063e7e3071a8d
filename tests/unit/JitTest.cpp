//===- JitTest.cpp - tlc::jit, the installed JIT's API --------------------===//
//
// What a program linking libtlc_jit.so sees: a compile, the cache hit of a
// second one, and every failure as a message naming its cause (the .tl
// line with a caret, the unknown kernel, the unsupported arch).
//
//===----------------------------------------------------------------------===//

#include "tlc/Driver/Jit.h"

#include <catch2/catch.hpp>

#include <filesystem>

using Catch::Matchers::Contains;

namespace {

const char *const kSource =
    "kernel fill[N=256](Out: Tensor[(N,), f32], value: f32):\n"
    "    with Kernel(1, threads=128) as bx:\n"
    "        for i in Parallel(N):\n"
    "            Out[i] = value\n";

std::string freshCache(const char *name) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "tlc-jit-test" / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

} // namespace

TEST_CASE("tlc::jit compiles, then finds the kernel in its cache", "[jit]") {
  tlc::jit::Options options;
  options.cacheDir = freshCache("hit");
  tlc::jit::Kernel first, second;
  std::string error;
  REQUIRE(tlc::jit::compile(kSource, "fill", options, first, error));
  CHECK_FALSE(first.cacheHit);
  CHECK_THAT(first.ptx, Contains(".entry fill"));
  CHECK_THAT(first.metadata, Contains("\"schema\": \"tlc.kernel/1\""));
  REQUIRE(tlc::jit::compile(kSource, "fill", options, second, error));
  CHECK(second.cacheHit);
  CHECK(second.ptx == first.ptx);
  CHECK(second.cachePath == first.cachePath);
  // Another compile-time value is another kernel.
  options.defines = {"N=512"};
  REQUIRE(tlc::jit::compile(kSource, "fill", options, second, error));
  CHECK_FALSE(second.cacheHit);
  CHECK(second.cachePath != first.cachePath);
  CHECK_THAT(tlc::jit::version(), Contains("NVRTC"));
}

TEST_CASE("tlc::jit reports what is wrong", "[jit]") {
  tlc::jit::Options options;
  options.cacheDir = freshCache("errors");
  options.filename = "fill.tl";
  tlc::jit::Kernel out;
  std::string error;
  std::string bad = kSource;
  bad.replace(bad.find("value\n"), 5, "nope\n");
  CHECK_FALSE(tlc::jit::compile(bad, "fill", options, out, error));
  CHECK_THAT(error, Contains("fill.tl:4:22: error: 'nope' is not defined") &&
                        Contains("^"));
  CHECK_FALSE(tlc::jit::compile(kSource, "missing", options, out, error));
  CHECK_THAT(error, Contains("missing"));
  options.arch = "sm_75";
  CHECK_FALSE(tlc::jit::compile(kSource, "fill", options, out, error));
  CHECK_THAT(error, Contains("arch must be sm_90a or sm_80, not 'sm_75'"));
}
