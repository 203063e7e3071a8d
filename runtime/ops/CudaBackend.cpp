//===- CudaBackend.cpp - GDN's kernels on the GPU -------------------------===//

#include "tlc/ops/Gdn.h"

#include "../lib/Driver.h"

#include <fmt/format.h>

#include <filesystem>

using namespace tlc;
using namespace tlc::ops;

CudaBackend::~CudaBackend() = default;

rt::Expected<rt::TensorRef> CudaBackend::allocate(rt::DType dtype,
                                                  std::vector<int64_t> shape) {
  rt::Expected<const rt::detail::Driver *> driver = rt::detail::driver();
  if (!driver)
    return driver.status();
  size_t count = 1;
  for (int64_t d : shape)
    count *= size_t(d);
  CUdeviceptr ptr = 0;
  // At least one element, so that empty tensors still get a valid pointer.
  if (CUresult r = (*driver)->cuMemAlloc(&ptr, std::max<size_t>(count, 1) *
                                                   rt::dtypeSize(dtype));
      r != CUDA_SUCCESS)
    return rt::detail::driverError(**driver, r, "cuMemAlloc");
  rt::TensorRef t =
      rt::TensorRef::make(reinterpret_cast<void *>(ptr), dtype, shape);
  return t;
}

void CudaBackend::release(const rt::TensorRef &tensor) {
  if (auto driver = rt::detail::driver(); driver && tensor.data)
    (*driver)->cuMemFree(reinterpret_cast<CUdeviceptr>(tensor.data));
}

rt::Status CudaBackend::upload(const rt::TensorRef &dst, const int32_t *values,
                               size_t count) {
  rt::Expected<const rt::detail::Driver *> driver = rt::detail::driver();
  if (!driver)
    return driver.status();
  if (CUresult r =
          (*driver)->cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst.data),
                                       values, count * sizeof(int32_t), stream);
      r != CUDA_SUCCESS)
    return rt::detail::driverError(**driver, r, "cuMemcpyHtoDAsync");
  return rt::Status();
}

rt::Status CudaBackend::launch(std::string_view kernel,
                               const std::vector<std::string> &constants,
                               std::vector<rt::Arg> args) {
  rt::Expected<rt::Module *> module =
      rt::ModuleCache::get(compiledKernelPath(kernelDir, kernel, constants));
  if (!module)
    return module.status();
  return (*module)->kernel().launch(
      stream, rt::Span<const rt::Arg>(args.data(), args.size()));
}

int CudaBackend::multiprocessors() {
  rt::Expected<const rt::detail::Driver *> driver = rt::detail::driver();
  if (!driver)
    return 0;
  CUdevice device;
  int count = 0;
  if ((*driver)->cuCtxGetDevice(&device, nullptr) != CUDA_SUCCESS ||
      (*driver)->cuDeviceGetAttribute(&count,
                                      CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                      device) != CUDA_SUCCESS)
    return 0;
  return count;
}

std::string
tlc::ops::compiledKernelPath(const std::string &kernelDir,
                             std::string_view kernel,
                             const std::vector<std::string> &constants) {
  return kernelDir + "/" + gdnVariantName(constants) + "/" +
         std::string(kernel) + ".ptx";
}

rt::Expected<rt::TensorRef>
CompiledKernelCheck::allocate(rt::DType, std::vector<int64_t>) {
  return rt::Status::error(rt::ErrorCode::InvalidArgument,
                           "tlc::ops::gdn: a kernel check allocates nothing");
}

rt::Status
CompiledKernelCheck::launch(std::string_view kernel,
                            const std::vector<std::string> &constants,
                            std::vector<rt::Arg>) {
  std::string path = compiledKernelPath(kernelDir, kernel, constants);
  std::error_code error;
  if (std::filesystem::is_regular_file(path, error))
    return rt::Status();
  std::string given;
  for (const std::string &c : constants)
    given += (given.empty() ? "" : " ") + c;
  return rt::Status::error(
      rt::ErrorCode::NotFound,
      fmt::format("tlc::ops::gdn: {} ({}) is not compiled: {} is missing "
                  "(rebuild the kernels)",
                  kernel, given, path));
}
