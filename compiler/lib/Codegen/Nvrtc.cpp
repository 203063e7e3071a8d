//===- Nvrtc.cpp - In-process CUDA C++ compilation ------------------------===//

#include "tlc/Codegen/CudaEmitter.h"

#include <nvrtc.h>

#include <cstdlib>
#include <memory>

#include "DeviceLibrary.inc"

using namespace tlc;

llvm::StringRef tlc::deviceLibrarySource() { return kDeviceLibrarySource; }
llvm::StringRef tlc::deviceWgmmaSource() { return kDeviceWgmmaSource; }

std::string tlc::nvrtcVersion() {
  int major = 0, minor = 0;
  ::nvrtcVersion(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

mlir::LogicalResult tlc::compileWithNvrtc(KernelArtifact &artifact,
                                          const CodegenOptions &options,
                                          std::string &log) {
  const char *headerSources[] = {kDeviceLibrarySource, kDeviceWgmmaSource};
  const char *headerNames[] = {"tlc/device/tlc.cuh",
                               "tlc/device/tlc_wgmma.cuh"};
  nvrtcProgram program;
  nvrtcResult result = nvrtcCreateProgram(
      &program, artifact.cuda.c_str(), (artifact.name + ".cu").c_str(),
      std::size(headerSources), headerSources, headerNames);
  if (result != NVRTC_SUCCESS) {
    log = std::string("nvrtcCreateProgram: ") + nvrtcGetErrorString(result);
    return mlir::failure();
  }
  auto destroy = [](nvrtcProgram *p) { nvrtcDestroyProgram(p); };
  std::unique_ptr<nvrtcProgram, decltype(destroy)> guard(&program, destroy);

  // cuda_bf16.h comes from the toolkit; CUDA_HOME overrides the build-time
  // location.
  std::string includeDir = TLC_CUDA_INCLUDE_DIR;
  if (const char *home = std::getenv("CUDA_HOME"))
    includeDir = std::string(home) + "/include";
  // PTX alone comes from the virtual architecture (compute_90a): for a real
  // one (sm_90a) NVRTC also runs ptxas, which the driver repeats at load
  // anyway; that was 40% of gdn.tl's compile time, for the same PTX.
  std::string archFlag =
      "--gpu-architecture=" +
      (options.cubin ? options.arch : "compute_" + options.arch.substr(3));
  std::string includeFlag = "--include-path=" + includeDir;
  const char *flags[] = {archFlag.c_str(), "-std=c++17", "-default-device",
                         "-lineinfo", includeFlag.c_str()};
  result = nvrtcCompileProgram(program, std::size(flags), flags);
  size_t logSize = 0;
  nvrtcGetProgramLogSize(program, &logSize);
  log.assign(logSize, '\0');
  if (logSize)
    nvrtcGetProgramLog(program, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n'))
    log.pop_back();
  if (result != NVRTC_SUCCESS)
    return mlir::failure();

  size_t ptxSize = 0;
  nvrtcGetPTXSize(program, &ptxSize);
  artifact.ptx.assign(ptxSize, '\0');
  nvrtcGetPTX(program, artifact.ptx.data());
  if (!artifact.ptx.empty() && artifact.ptx.back() == '\0')
    artifact.ptx.pop_back();
  if (options.cubin) {
    size_t cubinSize = 0;
    if (nvrtcGetCUBINSize(program, &cubinSize) != NVRTC_SUCCESS || !cubinSize) {
      log = "NVRTC produced no cubin for " + options.arch;
      return mlir::failure();
    }
    artifact.cubin.assign(cubinSize, '\0');
    nvrtcGetCUBIN(program, artifact.cubin.data());
  }
  return mlir::success();
}
