//===- Driver.h - The CUDA driver, loaded at run time ----------*- C++ -*-===//
//
// libcuda.so.1 is opened on first use rather than linked, so that programs
// using the runtime start (and can parse and validate) on machines without a
// driver, and report "no CUDA driver found" instead of failing to load.
// Entry points are resolved with cuGetProcAddress for the CUDA version of the
// headers we were compiled with.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_RUNTIME_DRIVER_H
#define TLC_RUNTIME_DRIVER_H

#include "tlc/runtime/Runtime.h"

namespace tlc::rt::detail {

#define TLC_DRIVER_FUNCTIONS(X)                                                \
  X(cuInit)                                                                    \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuCtxGetCurrent)                                                           \
  X(cuCtxSetCurrent)                                                           \
  X(cuDeviceGetAttribute)                                                      \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncSetAttribute)                                                        \
  X(cuLaunchKernelEx)                                                          \
  X(cuTensorMapEncodeTiled)                                                    \
  X(cuMemAlloc)                                                                \
  X(cuMemFree)                                                                 \
  X(cuMemcpyHtoDAsync)

struct Driver {
#define TLC_DECLARE(name) decltype(&::name) name = nullptr;
  TLC_DRIVER_FUNCTIONS(TLC_DECLARE)
  TLC_DECLARE(cuFuncGetParamInfo) // optional: CUDA 12.4+
  // Resolved for CUDA 13, "cuCtxGetDevice" is the form that also takes the
  // context (NULL: the current one); the one-argument type would be wrong.
  decltype(&::cuCtxGetDevice_v2) cuCtxGetDevice = nullptr;
#undef TLC_DECLARE
};

/// The driver's entry points, loaded once; an error if there is no usable
/// driver.
Expected<const Driver *> driver();

/// `tlc: WHAT: CUDA_ERROR_NAME (description)`.
Status driverError(const Driver &d, CUresult result, std::string_view what);

} // namespace tlc::rt::detail

#endif // TLC_RUNTIME_DRIVER_H
