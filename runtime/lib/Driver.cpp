//===- Driver.cpp - Load the CUDA driver ----------------------------------===//

#include "Driver.h"

#include <fmt/format.h>

#include <dlfcn.h>

using namespace tlc::rt;
using namespace tlc::rt::detail;

static Expected<const Driver *> loadDriver() {
  static Driver d;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return Status::error(
        ErrorCode::Driver,
        fmt::format("tlc: no CUDA driver found (cannot load libcuda.so.1: {})",
                    dlerror()));
  auto getProc = reinterpret_cast<decltype(&::cuGetProcAddress)>(
      dlsym(lib, "cuGetProcAddress_v2"));
  if (!getProc)
    return Status::error(ErrorCode::Driver,
                         "tlc: the CUDA driver is too old (libcuda.so.1 has "
                         "no cuGetProcAddress_v2; a CUDA 12 driver or newer "
                         "is needed)");
  auto resolve = [&](const char *name, void **fn) {
    CUdriverProcAddressQueryResult found;
    if (getProc(name, fn, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &found) !=
        CUDA_SUCCESS)
      *fn = nullptr;
    return *fn != nullptr;
  };
#define TLC_RESOLVE(name)                                                      \
  if (!resolve(#name, reinterpret_cast<void **>(&d.name)))                     \
    return Status::error(ErrorCode::Driver,                                    \
                         "tlc: the CUDA driver is too old (it has no " #name   \
                         ")");
  TLC_DRIVER_FUNCTIONS(TLC_RESOLVE)
#undef TLC_RESOLVE
  resolve("cuFuncGetParamInfo",
          reinterpret_cast<void **>(&d.cuFuncGetParamInfo));
  static_assert(CUDA_VERSION >= 13000, "cuCtxGetDevice's type is CUDA 13's");
  if (!resolve("cuCtxGetDevice", reinterpret_cast<void **>(&d.cuCtxGetDevice)))
    return Status::error(ErrorCode::Driver, "tlc: the CUDA driver is too old "
                                            "(it has no cuCtxGetDevice)");
  return &d;
}

Expected<const Driver *> tlc::rt::detail::driver() {
  static const Expected<const Driver *> loaded = loadDriver();
  return loaded;
}

Status tlc::rt::detail::driverError(const Driver &d, CUresult result,
                                    std::string_view what) {
  const char *name = nullptr, *text = nullptr;
  d.cuGetErrorName(result, &name);
  d.cuGetErrorString(result, &text);
  if (!name || !text)
    return Status::error(
        ErrorCode::Driver,
        fmt::format("tlc: {}: CUDA error {}", what, int(result)));
  return Status::error(ErrorCode::Driver,
                       fmt::format("tlc: {}: {} ({})", what, name, text));
}
