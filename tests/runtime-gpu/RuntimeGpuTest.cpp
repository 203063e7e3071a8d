//===- RuntimeGpuTest.cpp - Runtime tests that need a GPU -----------------===//
//
// Loads the kernels of kernels/ (PTX next to this program, in
// runtime-gpu-kernels/) and launches them through the C++ API and the C ABI.
// Exits with 77 (skipped) where there is no CUDA driver or device.
//
//===----------------------------------------------------------------------===//

#define CATCH_CONFIG_RUNNER
#include "tlc/runtime/Runtime.h"
#include "tlc/runtime/tlc_runtime.h"

#include <catch2/catch.hpp>
#include <cuda_runtime.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

using namespace tlc::rt;
using json = nlohmann::json;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path kernelPath(const std::string &file) {
  return fs::read_symlink("/proc/self/exe").parent_path() /
         "runtime-gpu-kernels" / file;
}

std::string readText(const fs::path &path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Device memory for `n` values of T.
template <typename T> struct DeviceBuffer {
  T *ptr = nullptr;
  size_t n;
  explicit DeviceBuffer(size_t n) : n(n) {
    REQUIRE(cudaMalloc(&ptr, n * sizeof(T)) == cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  void write(const std::vector<T> &values) {
    REQUIRE(cudaMemcpy(ptr, values.data(), n * sizeof(T),
                       cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<T> read() {
    std::vector<T> values(n);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    REQUIRE(cudaMemcpy(values.data(), ptr, n * sizeof(T),
                       cudaMemcpyDeviceToHost) == cudaSuccess);
    return values;
  }
};

Kernel &cachedKernel(const char *name) {
  Expected<Module *> m =
      ModuleCache::get(kernelPath(std::string(name) + ".ptx"));
  INFO(m.status().message());
  REQUIRE(m);
  return (*m)->kernel();
}

/// scale's x (M x N, stored transposed) and the expected y = a * x + n.
struct ScaleCase {
  static constexpr int64_t M = 3, N = 300;
  DeviceBuffer<float> x{M * N}, y{M * N};
  std::vector<float> expected;

  ScaleCase(float a, int n) {
    std::vector<float> xt(M * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        xt[j * M + i] = float(i * 1000 + j);
        expected.push_back(a * float(i * 1000 + j) + float(n));
      }
    x.write(xt);
  }
  std::vector<Arg> args(float a, int n) const {
    return {Arg::tensor(x.ptr, DType::F32, {M, N}, {1, M}),
            Arg::tensor(y.ptr, DType::F32, {M, N}), Arg::f32(a), Arg::i32(n)};
  }
};

/// The load error of scale.ptx with scale.json after `edit`.
Status loadScaleWith(const std::function<void(json &)> &edit) {
  json j = json::parse(readText(kernelPath("scale.json")));
  edit(j);
  Expected<Module> m =
      Module::load(readText(kernelPath("scale.ptx")), j.dump());
  REQUIRE_FALSE(m);
  return m.status();
}

} // namespace

TEST_CASE("a kernel runs with strided tensors and 64 KiB of dynamic shared "
          "memory",
          "[gpu]") {
  Kernel &k = cachedKernel("scale");
  Expected<Module *> again = ModuleCache::get(kernelPath("scale.ptx"));
  REQUIRE(again);
  CHECK(&(*again)->kernel() == &k);

  ScaleCase c(2.0f, 5);
  Status s = k.launch(nullptr, c.args(2.0f, 5));
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(c.y.read() == c.expected);
}

TEST_CASE("a zero-size grid launches nothing", "[gpu]") {
  Status s = cachedKernel("scale").launch(
      nullptr,
      {Arg::tensor(nullptr, DType::F32, {0, 300}),
       Arg::tensor(nullptr, DType::F32, {0, 300}), Arg::f32(1), Arg::i32(0)});
  CHECK(s.ok());
}

TEST_CASE("clusters are launched as the metadata says", "[gpu]") {
  DeviceBuffer<int32_t> out(8);
  out.write(std::vector<int32_t>(8, -1));
  Status s = cachedKernel("cluster_rank")
                 .launch(nullptr, {Arg::tensor(out.ptr, DType::I32, {8})});
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(out.read() == std::vector<int32_t>{0, 1, 0, 1, 0, 1, 0, 1});
}

TEST_CASE("launches can be captured into a CUDA graph", "[gpu]") {
  Kernel &k = cachedKernel("scale");
  ScaleCase c(3.0f, 1);
  cudaStream_t stream;
  REQUIRE(cudaStreamCreate(&stream) == cudaSuccess);
  REQUIRE(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) ==
          cudaSuccess);
  Status s = k.launch(stream, c.args(3.0f, 1));
  cudaGraph_t graph;
  REQUIRE(cudaStreamEndCapture(stream, &graph) == cudaSuccess);
  INFO(s.message());
  REQUIRE(s.ok());
  cudaGraphExec_t exec;
  REQUIRE(cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess);
  REQUIRE(cudaGraphLaunch(exec, stream) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
  CHECK(c.y.read() == c.expected);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

TEST_CASE("loading checks the metadata against the PTX", "[gpu]") {
  Status s = loadScaleWith([](json &j) {
    j["params"][0]["rank"] = 3;
    j["params"][0]["dims"].push_back("K");
  });
  CHECK(s.code() == ErrorCode::InvalidArgument);
  CHECK(s.message() ==
        "tlc: kernel 'scale': metadata does not match the PTX: parameter 0 "
        "('x') is 40 bytes at offset 0 in the PTX entry, but the metadata "
        "implies 56 bytes at offset 0");
  s = loadScaleWith([](json &j) { j["params"].erase(3); });
  CHECK(s.message() == "tlc: kernel 'scale': metadata does not match the "
                       "PTX: the PTX entry has more than the 3 parameters "
                       "listed in the metadata");
  s = loadScaleWith([](json &j) {
    j["params"].push_back(
        {{"name", "z"}, {"kind", "scalar"}, {"dtype", "i32"}});
  });
  CHECK(s.message() == "tlc: kernel 'scale': metadata does not match the "
                       "PTX: the PTX entry has 4 parameters, the metadata "
                       "lists 5");
  s = loadScaleWith([](json &j) { j["name"] = "nope"; });
  CHECK(s.code() == ErrorCode::NotFound);
  CHECK(s.message() == "tlc: kernel 'nope' not found in the module (no entry "
                       "of that name)");

  Expected<Module> m = Module::load(".version 8.0\n.target sm_90\nbogus;\n",
                                    readText(kernelPath("scale.json")));
  REQUIRE_FALSE(m);
  CHECK(m.status().code() == ErrorCode::Driver);
  CHECK_THAT(m.status().message(),
             Contains("tlc: loading kernel 'scale' (sm_90): CUDA_ERROR_"));
}

TEST_CASE("the C ABI loads and launches", "[gpu][c-abi]") {
  CHECK(tlc_init(0) == TLC_OK);
  CHECK(tlc_init(99) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(), Contains("tlc: CUDA device 99 does not exist"));

  tlc_module *module = nullptr;
  REQUIRE(tlc_module_load_files(kernelPath("scale.ptx").c_str(),
                                kernelPath("scale.json").c_str(),
                                &module) == TLC_OK);
  tlc_kernel *kernel = nullptr;
  REQUIRE(tlc_module_kernel(module, &kernel) == TLC_OK);

  ScaleCase c(0.5f, -2);
  std::vector<Arg> cppArgs = c.args(0.5f, -2);
  tlc_arg args[4] = {};
  for (int i = 0; i < 2; ++i) {
    const TensorRef &t = cppArgs[i].ref;
    args[i].kind = TLC_ARG_TENSOR;
    args[i].dtype = TLC_DTYPE_F32;
    args[i].rank = 2;
    args[i].data = t.data;
    std::copy_n(t.shape, 2, args[i].shape);
    std::copy_n(t.strides, 2, args[i].strides);
  }
  args[2].kind = args[3].kind = TLC_ARG_SCALAR;
  args[2].dtype = TLC_DTYPE_F32;
  args[2].scalar.f32 = 0.5f;
  args[3].dtype = TLC_DTYPE_I32;
  args[3].scalar.i32 = -2;
  INFO(tlc_last_error());
  REQUIRE(tlc_kernel_launch(kernel, nullptr, args, 4) == TLC_OK);
  CHECK(c.y.read() == c.expected);

  args[3].dtype = TLC_DTYPE_I64;
  CHECK(tlc_kernel_launch(kernel, nullptr, args, 4) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: kernel 'scale': argument 'n' (param 3): expected a scalar i32, "
        "got a scalar i64");
  tlc_module_free(module);
}

int main(int argc, char **argv) {
  Status s = initDevice(0);
  if (!s.ok() && s.message().rfind("tlc: no CUDA", 0) == 0) {
    std::fprintf(stderr, "skipped: %s\n", s.message().c_str());
    return 77;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return Catch::Session().run(argc, argv);
}
