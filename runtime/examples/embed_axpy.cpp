//===- embed_axpy.cpp - Embedding a tlc kernel in a C++ program -----------===//
//
// A complete program using the runtime: it loads the PTX and metadata that
// `tlc kernels/examples/elementwise.tl --emit ptx -o DIR` wrote, launches
// `axpy` on 1000 x 1000 bf16 matrices, and checks the result on the host.
//
//   tlc-embed-example DIR      (DIR holds axpy.ptx and axpy.json)
//
//===----------------------------------------------------------------------===//

#include "tlc/runtime/Runtime.h"

#include <cuda.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

uint16_t toBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

float fromBF16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

int check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return 0;
  const char *name = nullptr;
  cuGetErrorName(result, &name);
  std::fprintf(stderr, "%s: %s\n", what, name ? name : "?");
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR (with axpy.ptx and axpy.json)\n",
                 argv[0]);
    return 2;
  }
  namespace rt = tlc::rt;
  if (rt::Status s = rt::initDevice(0); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::string dir = argv[1];
  rt::Expected<rt::Module> module =
      rt::Module::loadFiles(dir + "/axpy.ptx", dir + "/axpy.json");
  if (!module) {
    std::fprintf(stderr, "%s\n", module.status().message().c_str());
    return 1;
  }

  const int64_t m = 1000, n = 1000;
  std::vector<uint16_t> x(m * n), y(m * n), out(m * n);
  for (int64_t i = 0; i < m * n; ++i) {
    x[i] = toBF16(std::sin(0.001f * i));
    y[i] = toBF16(std::cos(0.002f * i));
  }
  size_t bytes = m * n * sizeof(uint16_t);
  CUdeviceptr dx, dy, dout;
  if (check(cuMemAlloc(&dx, bytes), "cuMemAlloc") ||
      check(cuMemAlloc(&dy, bytes), "cuMemAlloc") ||
      check(cuMemAlloc(&dout, bytes), "cuMemAlloc") ||
      check(cuMemcpyHtoD(dx, x.data(), bytes), "cuMemcpyHtoD") ||
      check(cuMemcpyHtoD(dy, y.data(), bytes), "cuMemcpyHtoD"))
    return 1;

  const float alpha = 2.5f;
  rt::Arg args[] = {
      rt::Arg::tensor(reinterpret_cast<void *>(dx), rt::DType::BF16, {m, n}),
      rt::Arg::tensor(reinterpret_cast<void *>(dy), rt::DType::BF16, {m, n}),
      rt::Arg::tensor(reinterpret_cast<void *>(dout), rt::DType::BF16, {m, n}),
      rt::Arg::f32(alpha)};
  rt::Status status = module->kernel().launch(/*stream=*/nullptr, args);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return 1;
  }
  if (check(cuCtxSynchronize(), "kernel") ||
      check(cuMemcpyDtoH(out.data(), dout, bytes), "cuMemcpyDtoH"))
    return 1;

  double worst = 0;
  for (int64_t i = 0; i < m * n; ++i) {
    float want = alpha * fromBF16(x[i]) + fromBF16(y[i]);
    worst = std::max(worst, double(std::fabs(fromBF16(out[i]) - want)));
  }
  std::printf("axpy %lldx%lld: max |error| %.3g (bf16 output) -> %s\n",
              static_cast<long long>(m), static_cast<long long>(n), worst,
              worst < 0.05 ? "OK" : "WRONG");
  cuMemFree(dx);
  cuMemFree(dy);
  cuMemFree(dout);
  return worst < 0.05 ? 0 : 1;
}
