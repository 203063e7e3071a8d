//===- GpuTestUtil.h - Device memory and host dtypes for GPU tests -*- C++
//-*-===//

#ifndef TLC_TESTS_GPU_GPUTESTUTIL_H
#define TLC_TESTS_GPU_GPUTESTUTIL_H

#include "tlc/runtime/Runtime.h"

#include <catch2/catch.hpp>
#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace tlc::gputest {

/// Fails the current Catch2 test with the driver's message.
#define TLC_CU(call)                                                           \
  do {                                                                         \
    CUresult tlcResult = (call);                                               \
    if (tlcResult != CUDA_SUCCESS) {                                           \
      const char *tlcName = nullptr;                                           \
      cuGetErrorName(tlcResult, &tlcName);                                     \
      FAIL(#call << " failed: " << (tlcName ? tlcName : "?"));                 \
    }                                                                          \
  } while (0)

inline uint16_t toBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return 0x7fc0;
  bits += 0x7fff + ((bits >> 16) & 1); // Round to nearest even.
  return static_cast<uint16_t>(bits >> 16);
}
inline float fromBF16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t toF16(float f) {
  _Float16 h = static_cast<_Float16>(f);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}
inline float fromF16(uint16_t bits) {
  _Float16 h;
  std::memcpy(&h, &bits, 2);
  return static_cast<float>(h);
}

/// Host values rounded through a device dtype: what the kernel really sees.
struct HostTensor {
  rt::DType dtype;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;

  HostTensor(rt::DType dtype, std::vector<int64_t> shape)
      : dtype(dtype), shape(std::move(shape)) {
    bytes.resize(numel() * rt::dtypeSize(dtype));
  }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  float get(int64_t i) const {
    switch (dtype) {
    case rt::DType::BF16: {
      uint16_t h;
      std::memcpy(&h, &bytes[i * 2], 2);
      return fromBF16(h);
    }
    case rt::DType::F16: {
      uint16_t h;
      std::memcpy(&h, &bytes[i * 2], 2);
      return fromF16(h);
    }
    case rt::DType::I32: {
      int32_t v;
      std::memcpy(&v, &bytes[i * 4], 4);
      return static_cast<float>(v);
    }
    default: {
      float f;
      std::memcpy(&f, &bytes[i * 4], 4);
      return f;
    }
    }
  }
  void set(int64_t i, float v) {
    if (dtype == rt::DType::BF16 || dtype == rt::DType::F16) {
      uint16_t h = dtype == rt::DType::BF16 ? toBF16(v) : toF16(v);
      std::memcpy(&bytes[i * 2], &h, 2);
    } else if (dtype == rt::DType::I32) {
      int32_t n = static_cast<int32_t>(v);
      std::memcpy(&bytes[i * 4], &n, 4);
    } else {
      std::memcpy(&bytes[i * 4], &v, 4);
    }
  }
  void randomize(std::mt19937_64 &rng, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    for (int64_t i = 0; i < numel(); ++i)
      set(i, dist(rng));
  }
};

/// Device memory holding a HostTensor's bytes.
struct DeviceTensor {
  CUdeviceptr ptr = 0;
  size_t size = 0;
  rt::DType dtype;
  std::vector<int64_t> shape;

  explicit DeviceTensor(const HostTensor &host)
      : size(host.bytes.size()), dtype(host.dtype), shape(host.shape) {
    cuMemAlloc(&ptr, size ? size + 256 : 256);
    upload(host);
  }
  ~DeviceTensor() {
    if (ptr)
      cuMemFree(ptr);
  }
  DeviceTensor(const DeviceTensor &) = delete;
  void upload(const HostTensor &host) {
    if (size)
      cuMemcpyHtoD(ptr, host.bytes.data(), size);
  }
  /// Fills with 0xFF bytes: NaN in every float dtype, so an element the
  /// kernel fails to write shows up.
  void poison() { cuMemsetD8(ptr, 0xff, size ? size : 1); }
  HostTensor download() const {
    HostTensor host(dtype, shape);
    cuCtxSynchronize();
    if (size)
      cuMemcpyDtoH(host.bytes.data(), ptr, size);
    return host;
  }
  rt::Arg arg() const {
    rt::TensorRef ref;
    ref.data = reinterpret_cast<void *>(ptr);
    ref.dtype = dtype;
    ref.rank = static_cast<int>(shape.size());
    int64_t stride = 1;
    for (int d = ref.rank - 1; d >= 0; --d) {
      ref.shape[d] = shape[d];
      ref.strides[d] = stride;
      stride *= shape[d];
    }
    return rt::Arg::tensor(ref);
  }
};

/// ||x - ref|| / ||ref|| over all elements; NaN when x has a NaN or Inf.
inline double relativeRms(const HostTensor &x, const std::vector<double> &ref) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    double v = x.get(i);
    if (!std::isfinite(v))
      return NAN;
    num += (v - ref[i]) * (v - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

std::string kernelDir();
std::mt19937_64 &rng();

/// The median time in ms of `runs` calls of `fn` (after two warm-up calls),
/// each between events on the default stream.
template <class Fn> double medianMs(Fn &&fn, int runs) {
  CUevent start, stop;
  TLC_CU(cuEventCreate(&start, 0));
  TLC_CU(cuEventCreate(&stop, 0));
  std::vector<float> times;
  for (int i = 0; i < runs + 2; ++i) {
    TLC_CU(cuEventRecord(start, nullptr));
    fn();
    TLC_CU(cuEventRecord(stop, nullptr));
    TLC_CU(cuEventSynchronize(stop));
    float ms = 0;
    TLC_CU(cuEventElapsedTime(&ms, start, stop));
    if (i >= 2)
      times.push_back(ms);
  }
  cuEventDestroy(start);
  cuEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// The kernel `name` that tlc compiled at build time into
/// $TLC_GPU_KERNELS/<variant>/.
inline rt::Kernel &loadKernel(const std::string &variant,
                              const std::string &name) {
  std::string path = kernelDir() + "/" + variant + "/" + name + ".ptx";
  rt::Expected<rt::Module *> module = rt::ModuleCache::get(path);
  if (!module)
    FAIL("loading " << path << ": " << module.status().message());
  return (*module)->kernel();
}

/// Launches on the default stream, requires success and waits.
inline void launch(rt::Kernel &kernel, rt::Span<const rt::Arg> args) {
  rt::Status status = kernel.launch(nullptr, args);
  INFO(status.message());
  REQUIRE(status.ok());
  TLC_CU(cuCtxSynchronize());
}

inline void launch(rt::Kernel &kernel, std::initializer_list<rt::Arg> args) {
  launch(kernel, rt::Span<const rt::Arg>(args));
}

} // namespace tlc::gputest

#endif // TLC_TESTS_GPU_GPUTESTUTIL_H
