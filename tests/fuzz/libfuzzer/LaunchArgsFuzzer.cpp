//===- LaunchArgsFuzzer.cpp - libFuzzer harness: launch arguments ---------===//
//
// Part of tlc. Checks launch arguments against real kernels' metadata the
// way every launch does (tlc_check_args: the C ABI's conversion, the
// argument checker and the grid-expression evaluator), with hostile
// descriptors: wrong kinds, dtypes and ranks, huge, zero or negative
// extents, overflowing or negative strides, null or misaligned pointers,
// too few or too many arguments. Properties: no crash or undefined
// behaviour (ASan, UBSan); a failure always says why; an accepted call has
// a grid within CUDA's limits.
//
// The metadata comes from TLC_FUZZ_METADATA: a folder searched for *.json
// (the build's gpu-kernels).
//
//===----------------------------------------------------------------------===//

#include "FuzzInput.h"

#include "tlc/runtime/Runtime.h"
#include "tlc/runtime/tlc_runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace {
struct Kernel {
  tlc::rt::KernelInfo info;
  std::unique_ptr<tlc_kernel_info, void (*)(tlc_kernel_info *)> handle{
      nullptr, tlc_kernel_info_free};
};
std::vector<Kernel> kernels;

int cKind(tlc::rt::ArgKind kind) {
  return kind == tlc::rt::ArgKind::Tensor ? TLC_ARG_TENSOR : TLC_ARG_SCALAR;
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const char *dir = std::getenv("TLC_FUZZ_METADATA");
  if (!dir || !std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "LaunchArgsFuzzer: set TLC_FUZZ_METADATA to a "
                         "folder of kernel metadata (build/gpu-kernels)\n");
    std::exit(2);
  }
  std::vector<std::filesystem::path> files;
  for (const auto &entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.path().extension() == ".json")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const std::filesystem::path &file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    tlc::rt::Expected<tlc::rt::KernelInfo> info =
        tlc::rt::parseKernelInfo(text.str());
    tlc_kernel_info *handle = nullptr;
    if (!info || tlc_kernel_info_parse(text.str().c_str(), &handle) != TLC_OK)
      continue;
    Kernel k;
    k.handle.reset(handle);
    k.info = *info;
    kernels.push_back(std::move(k));
    if (kernels.size() == 256)
      break;
  }
  if (kernels.empty()) {
    std::fprintf(stderr, "LaunchArgsFuzzer: no kernel metadata in %s\n", dir);
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tlc::fuzz::FuzzInput in(data, size);
  const Kernel &k = kernels[in.byte() % kernels.size()];
  const std::vector<tlc::rt::ParamInfo> &params = k.info.params;
  // Usually the expected count; sometimes one fewer or more, or negative.
  int nargs = int(params.size());
  switch (in.byte() % 8) {
  case 0:
    nargs = nargs > 0 ? nargs - 1 : 0;
    break;
  case 1:
    nargs = nargs + 1;
    break;
  case 2:
    nargs = -int(in.byte());
    break;
  default:
    break;
  }
  std::vector<tlc_arg> args(std::max(nargs, 0) + 1);
  for (int i = 0; i < nargs; ++i) {
    if (size_t(i) < params.size())
      args[i] = in.argument(cKind(params[i].kind), int(params[i].dtype),
                            params[i].rank);
    else
      args[i] = in.argument();
  }
  uint32_t grid[3] = {0, 0, 0};
  tlc_status status = tlc_check_args(k.handle.get(), args.data(), nargs, grid);
  if (status != TLC_OK && !*tlc_last_error())
    std::abort(); // every failure says why
  if (status == TLC_OK &&
      (grid[0] > 2147483647u || grid[1] > 65535u || grid[2] > 65535u))
    std::abort(); // accepted, then refused by the driver
  return 0;
}
