//===- RuntimeTest.cpp - Runtime tests that need no GPU -------------------===//
//
// Metadata parsing, argument validation, grid evaluation, parameter packing
// and the C ABI's validation path. Nothing here calls into a GPU.
//
//===----------------------------------------------------------------------===//

#include "tlc/runtime/Runtime.h"
#include "tlc/ops/Gdn.h"
#include "tlc/runtime/tlc_runtime.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

/// Heap allocations so far (CountAllocations.cpp).
size_t numAllocations();

using namespace tlc::rt;
using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

/// The kernel ABI of a tensor parameter.
template <int R> struct TensorArg {
  void *data;
  int64_t shape[R];
  int64_t stride[R];
};

const char *const kGemm = R"({
  "schema": "tlc.kernel/1", "name": "gemm", "arch": "sm_90a",
  "threads": 128, "dynamic_shared_bytes": 65536, "cluster": [1, 1, 1],
  "params": [
    {"name": "A", "kind": "tensor", "dtype": "bf16", "rank": 2,
     "dims": ["M", "K"], "alignment": 16},
    {"name": "B", "kind": "tensor", "dtype": "bf16", "rank": 2,
     "dims": ["K", "N"], "alignment": 16},
    {"name": "C", "kind": "tensor", "dtype": "f32", "rank": 2,
     "dims": ["M", "N"], "alignment": 16},
    {"name": "n", "kind": "scalar", "dtype": "i32"}
  ],
  "grid": [{"op": "ceildiv", "args": [{"dim": "N"}, {"const": 128}]},
           {"op": "ceildiv", "args": [{"dim": "M"}, {"const": 128}]},
           {"const": 1}],
  "constants": {"BM": 128, "DT": "bf16", "CAUSAL": true},
  "compile_options": {"O": 3}, "source_hash": "abc123",
  "compiler_version": "0.1.0", "nvrtc_version": "13.0"
})";

KernelInfo parse(const std::string &text) {
  Expected<KernelInfo> info = parseKernelInfo(text);
  INFO(info.status().message());
  REQUIRE(info);
  return *info;
}

/// The parse error of kGemm after `edit`.
std::string parseErrorAfter(const std::function<void(json &)> &edit) {
  json j = json::parse(kGemm);
  edit(j);
  Expected<KernelInfo> info = parseKernelInfo(j.dump());
  REQUIRE_FALSE(info);
  CHECK(info.status().code() == ErrorCode::Parse);
  return info.status().message();
}

// Aligned, distinct fake device addresses; nothing dereferences them.
void *ptr(uintptr_t address) { return reinterpret_cast<void *>(address); }
void *const kA = ptr(0x10000), *const kB = ptr(0x20000),
            *const kC = ptr(0x30000);

std::vector<Arg> gemmArgs(int64_t m, int64_t n, int64_t k) {
  return {Arg::tensor(kA, DType::BF16, {m, k}),
          Arg::tensor(kB, DType::BF16, {k, n}),
          Arg::tensor(kC, DType::F32, {m, n}), Arg::i32(7)};
}

/// The message of a failed planLaunch.
std::string planError(const KernelInfo &info, const std::vector<Arg> &args) {
  Expected<LaunchPlan> plan = planLaunch(info, args);
  REQUIRE_FALSE(plan);
  CHECK(plan.status().code() == ErrorCode::InvalidArgument);
  return plan.status().message();
}

} // namespace

//===----------------------------------------------------------------------===//
// Data types and metadata
//===----------------------------------------------------------------------===//

TEST_CASE("dtype names and sizes", "[runtime]") {
  for (DType t : {DType::BF16, DType::F16, DType::F32, DType::F64, DType::I8,
                  DType::I32, DType::I64, DType::Bool})
    CHECK(parseDType(dtypeName(t)) == t);
  CHECK(dtypeSize(DType::BF16) == 2);
  CHECK(dtypeSize(DType::F64) == 8);
  CHECK(dtypeSize(DType::Bool) == 1);
  CHECK_FALSE(parseDType("float32"));
}

TEST_CASE("metadata is parsed", "[runtime]") {
  KernelInfo info = parse(kGemm);
  CHECK(info.name == "gemm");
  CHECK(info.arch == "sm_90a");
  CHECK(info.threads == 128);
  CHECK(info.dynamicSharedBytes == 65536);
  REQUIRE(info.params.size() == 4);
  CHECK(info.params[1].name == "B");
  CHECK(info.params[1].dims[0].name == "K");
  CHECK(info.params[3].kind == ArgKind::Scalar);
  REQUIRE(info.symbols.size() == 3);
  CHECK(info.symbols[1].name == "K");
  CHECK(info.symbols[1].param == 0);
  CHECK(info.symbols[1].dim == 1);
  CHECK(printGridExpr(info, info.grid[0]) == "ceildiv(N, 128)");
  CHECK(printGridExpr(info, info.grid[2]) == "1");
  CHECK(info.constants.at("DT") == "\"bf16\"");
  CHECK(info.constants.at("CAUSAL") == "true");
  CHECK(info.compileOptions == "{\"O\":3}");
  CHECK(info.sourceHash == "abc123");
  CHECK(info.paramBytes == 3 * 40 + 4);
}

TEST_CASE("optional metadata fields may be left out", "[runtime]") {
  json j = json::parse(kGemm);
  for (const char *key : {"cluster", "constants", "compile_options",
                          "source_hash", "compiler_version", "nvrtc_version"})
    j.erase(key);
  KernelInfo info = parse(j.dump());
  CHECK(info.cluster[0] == 1);
  CHECK(info.constants.empty());
}

TEST_CASE("static dimensions", "[runtime]") {
  KernelInfo info = parse(R"({"schema": "tlc.kernel/1", "name": "k",
    "arch": "sm_90a", "threads": 32, "dynamic_shared_bytes": 0,
    "params": [{"name": "x", "kind": "tensor", "dtype": "f16", "rank": 2,
                "dims": ["128", "N"], "alignment": 2}],
    "grid": [{"dim": "N"}, {"const": 1}, {"const": 1}]})");
  CHECK(info.params[0].dims[0].symbol == -1);
  CHECK(info.params[0].dims[0].size == 128);
  CHECK(planError(info, {Arg::tensor(kA, DType::F16, {64, 3})}) ==
        "tlc: kernel 'k': argument 'x' (param 0): dimension 0 must be 128, "
        "got 64 (shape [64, 3])");
  Expected<LaunchPlan> plan =
      planLaunch(info, {Arg::tensor(kA, DType::F16, {128, 3})});
  REQUIRE(plan);
  CHECK(plan->grid[0] == 3);
}

TEST_CASE("malformed metadata is rejected with the field named", "[runtime]") {
  CHECK(parseErrorAfter([](json &j) { j.erase("threads"); }) ==
        "tlc: metadata of kernel 'gemm': missing field 'threads'");
  CHECK(parseErrorAfter([](json &j) { j["threads"] = 2048; }) ==
        "tlc: metadata of kernel 'gemm': field 'threads' must be an integer "
        "in [1, 1024], got 2048");
  CHECK(parseErrorAfter([](json &j) { j["schema"] = "tlc.kernel/2"; }) ==
        "tlc: kernel metadata: unsupported schema 'tlc.kernel/2' (this "
        "runtime reads 'tlc.kernel/1')");
  CHECK(parseErrorAfter([](json &j) { j.erase("name"); }) ==
        "tlc: kernel metadata: missing field 'name'");
  CHECK(parseErrorAfter([](json &j) { j["params"][1].erase("dtype"); }) ==
        "tlc: metadata of kernel 'gemm': missing field 'params[1].dtype'");
  CHECK(parseErrorAfter([](json &j) { j["params"][0]["dtype"] = "bf17"; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[0].dtype': unknown "
        "dtype 'bf17' (expected bf16, f16, f32, f64, i8, i32, i64 or bool)");
  CHECK(parseErrorAfter([](json &j) { j["params"][3]["dtype"] = "bf16"; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[3].dtype': scalar "
        "dtype must be i32, i64 or f32, got 'bf16'");
  CHECK(parseErrorAfter([](json &j) { j["params"][0]["kind"] = "tile"; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[0].kind' must be "
        "\"tensor\" or \"scalar\", got \"tile\"");
  CHECK(parseErrorAfter([](json &j) { j["params"][0]["rank"] = 3; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[0].dims' must be an "
        "array of 3 entries, got [\"M\",\"K\"]");
  CHECK(parseErrorAfter([](json &j) { j["params"][0]["dims"][1] = "-4"; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[0].dims[1]' must be a "
        "dimension name or a non-negative integer, got \"-4\"");
  CHECK(parseErrorAfter([](json &j) { j["params"][0]["alignment"] = 12; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[0].alignment' must be "
        "a power of two, got 12");
  CHECK(parseErrorAfter([](json &j) { j["params"][1]["name"] = "A"; }) ==
        "tlc: metadata of kernel 'gemm': field 'params[1].name': duplicate "
        "parameter name 'A'");
  CHECK(parseErrorAfter([](json &j) { j["grid"].erase(2); }) ==
        "tlc: metadata of kernel 'gemm': field 'grid' must be an array of 3 "
        "entries, got [{\"args\":[{\"dim\":\"N\"},{\"const\":128}],...");
  CHECK(parseErrorAfter([](json &j) { j["grid"][0]["op"] = "pow"; }) ==
        "tlc: metadata of kernel 'gemm': field 'grid[0].op': unknown "
        "operator 'pow' (expected add, sub, mul, floordiv, ceildiv, max or "
        "min)");
  CHECK(parseErrorAfter([](json &j) {
          j["grid"][1] = {{"dim", "Q"}};
        }) ==
        "tlc: metadata of kernel 'gemm': field 'grid[1].dim': 'Q' is not a "
        "dimension of any tensor parameter");
  CHECK(parseErrorAfter([](json &j) {
          j["grid"][2] = {{"scalar", "A"}};
        }) ==
        "tlc: metadata of kernel 'gemm': field 'grid[2].scalar': 'A' is not "
        "an integer scalar parameter");
  CHECK_THAT(parseErrorAfter([](json &j) {
               j["grid"][2] = {{"cost", 1}};
             }),
             Contains("field 'grid[2]' must be one of {\"const\": N}"));
  CHECK(parseErrorAfter([](json &j) {
          j["grid"][0]["args"][1] = {{"const", 1.5}};
        }) == "tlc: metadata of kernel 'gemm': field 'grid[0].args[1].const' "
              "must be an integer in [-9223372036854775808, "
              "9223372036854775807], got 1.5");
  CHECK(parseErrorAfter([](json &j) {
          j["cluster"] = {2, 1};
        }) ==
        "tlc: metadata of kernel 'gemm': field 'cluster' must be an array of "
        "3 entries, got [2,1]");
}

TEST_CASE("metadata that is not JSON, or too large", "[runtime]") {
  Expected<KernelInfo> info = parseKernelInfo("{\"schema\": ");
  REQUIRE_FALSE(info);
  CHECK(info.status().code() == ErrorCode::Parse);
  CHECK_THAT(info.status().message(),
             Contains("tlc: kernel metadata: invalid JSON: parse error at "
                      "line 1, column 12"));
  CHECK(parseKernelInfo("[1, 2]").status().message() ==
        "tlc: kernel metadata: expected a JSON object, got [1,2]");

  CHECK_THAT(parseErrorAfter([](json &j) {
               json deep = {{"const", 1}};
               for (int i = 0; i < 100; ++i)
                 deep = {{"op", "add"}, {"args", {deep, {{"const", 1}}}}};
               j["grid"][0] = deep;
             }),
             Contains("grid expression nested more than 64 deep"));
  CHECK_THAT(parseErrorAfter([](json &j) {
               for (int i = 0; i < 40; ++i)
                 j["params"].push_back(
                     {{"name", "t" + std::to_string(i)},
                      {"kind", "tensor"},
                      {"dtype", "f32"},
                      {"rank", 8},
                      {"dims", std::vector<std::string>(8, "1")},
                      {"alignment", 4}});
             }),
             Contains("parameters take more than 4096 bytes"));
}

//===----------------------------------------------------------------------===//
// Launch planning
//===----------------------------------------------------------------------===//

TEST_CASE("the grid is evaluated from the bound dimensions", "[runtime]") {
  KernelInfo info = parse(kGemm);
  Expected<LaunchPlan> plan = planLaunch(info, gemmArgs(1000, 300, 64));
  REQUIRE(plan);
  CHECK(plan->grid[0] == 3); // ceildiv(300, 128)
  CHECK(plan->grid[1] == 8); // ceildiv(1000, 128)
  CHECK(plan->grid[2] == 1);
  CHECK(plan->symbolValues[0] == 1000); // M
  CHECK(plan->symbolValues[1] == 64);   // K
  CHECK(plan->symbolValues[2] == 300);  // N
  CHECK_FALSE(plan->empty());

  plan = planLaunch(info, gemmArgs(1024, 128, 64));
  REQUIRE(plan);
  CHECK(plan->grid[0] == 1);
  CHECK(plan->grid[1] == 8);
}

TEST_CASE("a zero-size grid launches nothing", "[runtime]") {
  KernelInfo info = parse(kGemm);
  std::vector<Arg> args = gemmArgs(0, 256, 64);
  args[0].ref.data = nullptr; // empty tensors may be null
  args[2].ref.data = nullptr;
  Expected<LaunchPlan> plan = planLaunch(info, args);
  REQUIRE(plan);
  CHECK(plan->grid[1] == 0);
  CHECK(plan->empty());
}

TEST_CASE("grid operators", "[runtime]") {
  auto gridOf = [](json expr, int64_t n) -> Expected<LaunchPlan> {
    json j = {
        {"schema", "tlc.kernel/1"},
        {"name", "k"},
        {"arch", "sm_90a"},
        {"threads", 32},
        {"dynamic_shared_bytes", 0},
        {"params", {{{"name", "n"}, {"kind", "scalar"}, {"dtype", "i64"}}}},
        {"grid", {expr, {{"const", 1}}, {{"const", 1}}}}};
    return planLaunch(parse(j.dump()), {Arg::i64(n)});
  };
  auto op = [](const char *name, json a, json b) {
    return json{{"op", name}, {"args", {a, b}}};
  };
  json n = {{"scalar", "n"}};
  auto c = [](int64_t v) { return json{{"const", v}}; };
  auto x = [&](json expr, int64_t value) {
    Expected<LaunchPlan> plan = gridOf(expr, value);
    INFO(plan.status().message());
    REQUIRE(plan);
    return plan->grid[0];
  };
  CHECK(x(op("add", n, c(2)), 5) == 7);
  CHECK(x(op("sub", n, c(2)), 5) == 3);
  CHECK(x(op("mul", n, c(3)), 5) == 15);
  CHECK(x(op("floordiv", n, c(2)), 7) == 3);
  CHECK(x(op("ceildiv", n, c(2)), 7) == 4);
  CHECK(x(op("ceildiv", n, c(2)), 8) == 4);
  CHECK(x(op("ceildiv", n, c(64)), 1) == 1);
  CHECK(x(op("add", op("floordiv", c(-7), n), c(4)), 2) == 0); // -4 + 4
  CHECK(x(op("add", op("ceildiv", c(-7), n), c(4)), 2) == 1);  // -3 + 4
  CHECK(x(op("add", op("floordiv", n, c(-2)), c(4)), 7) == 0); // -4 + 4
  CHECK(x(op("add", op("ceildiv", n, c(-2)), c(4)), 7) == 1);  // -3 + 4
  CHECK(x(op("max", n, c(9)), 5) == 9);
  CHECK(x(op("min", n, c(9)), 5) == 5);

  auto error = [&](json expr, int64_t value) {
    Expected<LaunchPlan> plan = gridOf(expr, value);
    REQUIRE_FALSE(plan);
    return plan.status().message();
  };
  CHECK(error(op("floordiv", c(1), n), 0) ==
        "tlc: kernel 'k': grid x: division by zero in floordiv(1, n)");
  CHECK(error(op("mul", n, n), int64_t(1) << 40) ==
        "tlc: kernel 'k': grid x: mul(n, n) overflows int64 (with operands "
        "1099511627776 and 1099511627776)");
  CHECK(error(op("sub", c(0), n), 1) ==
        "tlc: kernel 'k': grid x = sub(0, n) is -1, below 0");
  CHECK(error(n, int64_t(1) << 31) ==
        "tlc: kernel 'k': grid x = n is 2147483648, above the limit "
        "2147483647");
}

TEST_CASE("grid y and z are limited to 65535, and to multiples of the "
          "cluster",
          "[runtime]") {
  json j = json::parse(kGemm);
  KernelInfo info = parse(j.dump());
  CHECK(planError(info, gemmArgs(128 * 65536, 128, 64)) ==
        "tlc: kernel 'gemm': grid y = ceildiv(M, 128) is 65536, above the "
        "limit 65535");
  j["cluster"] = {2, 1, 1};
  info = parse(j.dump());
  CHECK(planError(info, gemmArgs(128, 384, 64)) ==
        "tlc: kernel 'gemm': grid x = ceildiv(N, 128) is 3, not a multiple "
        "of the cluster size 2");
  CHECK(planLaunch(info, gemmArgs(128, 256, 64)));
}

TEST_CASE("argument errors name the parameter and compare", "[runtime]") {
  KernelInfo info = parse(kGemm);
  std::vector<Arg> args = gemmArgs(256, 128, 64);
  REQUIRE(planLaunch(info, args));

  SECTION("count") {
    args.pop_back();
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': expected 4 arguments (A, B, C, n), got 3");
  }
  SECTION("kind") {
    args[3] = Arg::tensor(kA, DType::I32, {1});
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'n' (param 3): expected a scalar "
          "i32, got a tensor of i32");
    args[3] = Arg::i32(1);
    args[1] = Arg::f32(1);
    CHECK(planError(info, args) == "tlc: kernel 'gemm': argument 'B' (param "
                                   "1): expected a tensor, got a scalar");
  }
  SECTION("scalar type") {
    args[3] = Arg::i64(7);
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'n' (param 3): expected a scalar "
          "i32, got a scalar i64");
  }
  SECTION("dtype") {
    args[0] = Arg::tensor(kA, DType::F32, {256, 64});
    CHECK(planError(info, args) == "tlc: kernel 'gemm': argument 'A' (param "
                                   "0): expected dtype bf16, got f32");
  }
  SECTION("rank") {
    args[0] = Arg::tensor(kA, DType::BF16, {4, 5, 6});
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'A' (param 0): expected rank 2, got "
          "3 (shape [4, 5, 6])");
    args[0].ref.rank = 9;
    CHECK(planError(info, args) == "tlc: kernel 'gemm': argument 'A' (param "
                                   "0): expected rank 2, got 9");
  }
  SECTION("inconsistent symbolic dimensions") {
    args[1] = Arg::tensor(kB, DType::BF16, {1000, 128});
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'B' (param 1): dimension 0 is 'K' = "
          "1000, but 'K' = 64 from argument 'A' dimension 1");
    args[1] = Arg::tensor(kB, DType::BF16, {64, 128});
    args[2] = Arg::tensor(kC, DType::F32, {256, 129});
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'C' (param 2): dimension 1 is 'N' = "
          "129, but 'N' = 128 from argument 'B' dimension 1");
  }
  SECTION("negative sizes and strides") {
    args[0].ref.shape[1] = -1;
    CHECK(planError(info, args) == "tlc: kernel 'gemm': argument 'A' (param "
                                   "0): dimension 1 has negative size -1");
    args[0].ref.shape[1] = 64;
    args[0].ref.strides[0] = -64;
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'A' (param 0): dimension 0 has "
          "negative stride -64 (strides must be >= 0)");
  }
  SECTION("misaligned pointer") {
    args[1].ref.data = ptr(0x20002);
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'B' (param 1): data pointer 0x20002 "
          "is not aligned to 16 bytes");
  }
  SECTION("null data") {
    args[2].ref.data = nullptr;
    CHECK(planError(info, args) ==
          "tlc: kernel 'gemm': argument 'C' (param 2): data pointer is null, "
          "but the tensor is not empty (shape [256, 128])");
  }
}

TEST_CASE("packed parameters have the kernel ABI layout", "[runtime]") {
  KernelInfo info = parse(kGemm);
  std::vector<Arg> args = {
      Arg::tensor(kA, DType::BF16, {256, 64}, {1, 256}), // column-major
      Arg::tensor(kB, DType::BF16, {64, 128}),
      Arg::tensor(kC, DType::F32, {256, 128}, {256, 2}), Arg::i32(-5)};
  Expected<LaunchPlan> plan = planLaunch(info, args);
  REQUIRE(plan);

  struct Params {
    TensorArg<2> a, b, c;
    int32_t n;
  } expected;
  std::memset(&expected, 0, sizeof(expected));
  expected.a = {kA, {256, 64}, {1, 256}};
  expected.b = {kB, {64, 128}, {128, 1}};
  expected.c = {kC, {256, 128}, {256, 2}};
  expected.n = -5;
  REQUIRE(plan->numParams == 4);
  CHECK(plan->offsets[1] == offsetof(Params, b));
  CHECK(plan->offsets[3] == offsetof(Params, n));
  CHECK(info.paramBytes == offsetof(Params, n) + 4);
  CHECK(std::memcmp(plan->storage, &expected, info.paramBytes) == 0);
}

TEST_CASE("scalars and tensors of every rank are aligned as in C",
          "[runtime]") {
  KernelInfo info = parse(R"({"schema": "tlc.kernel/1", "name": "k",
    "arch": "sm_90a", "threads": 32, "dynamic_shared_bytes": 0,
    "params": [{"name": "a", "kind": "scalar", "dtype": "i32"},
               {"name": "x", "kind": "tensor", "dtype": "i8", "rank": 1,
                "dims": ["N"], "alignment": 1},
               {"name": "s", "kind": "scalar", "dtype": "f32"},
               {"name": "t", "kind": "scalar", "dtype": "i64"},
               {"name": "y", "kind": "tensor", "dtype": "bool", "rank": 0,
                "dims": [], "alignment": 1}],
    "grid": [{"const": 1}, {"const": 1}, {"const": 1}]})");
  struct Params {
    int32_t a;
    TensorArg<1> x;
    float s;
    int64_t t;
    void *y; // TensorArg<0>
  } expected;
  std::memset(&expected, 0, sizeof(expected));
  expected.a = 3;
  expected.x = {kA, {10}, {1}};
  expected.s = 2.5f;
  expected.t = int64_t(1) << 40;
  expected.y = kB;
  Expected<LaunchPlan> plan = planLaunch(
      info, {Arg::i32(3), Arg::tensor(kA, DType::I8, {10}), Arg::f32(2.5f),
             Arg::i64(int64_t(1) << 40), Arg::tensor(kB, DType::Bool, {})});
  REQUIRE(plan);
  CHECK(plan->offsets[1] == offsetof(Params, x));
  CHECK(plan->offsets[2] == offsetof(Params, s));
  CHECK(plan->offsets[3] == offsetof(Params, t));
  CHECK(plan->offsets[4] == offsetof(Params, y));
  CHECK(info.paramBytes == sizeof(Params));
  CHECK(std::memcmp(plan->storage, &expected, sizeof(Params)) == 0);
}

TEST_CASE("planning a launch does not allocate", "[runtime]") {
  size_t start = numAllocations();
  KernelInfo info = parse(kGemm);
  REQUIRE(numAllocations() > start); // the counter counts
  std::vector<Arg> args = gemmArgs(1000, 300, 64);
  size_t before = numAllocations();
  Expected<LaunchPlan> plan = planLaunch(info, args);
  size_t allocations = numAllocations() - before;
  CHECK(plan);
  CHECK(allocations == 0);
}

//===----------------------------------------------------------------------===//
// Loading without a GPU
//===----------------------------------------------------------------------===//

TEST_CASE("loading fails cleanly before any GPU work", "[runtime]") {
  Expected<Module> m = Module::load("", "{}");
  REQUIRE_FALSE(m);
  CHECK(m.status().code() == ErrorCode::Parse);
  m = Module::loadFiles("/nonexistent/k.ptx", "/nonexistent/k.json");
  REQUIRE_FALSE(m);
  CHECK(m.status().code() == ErrorCode::NotFound);
  CHECK(m.status().message() ==
        "tlc: cannot read '/nonexistent/k.ptx': No such file or directory");
  // No driver here, or no current context: a driver error, never a crash.
  m = Module::load(".version 8.0", kGemm);
  REQUIRE_FALSE(m);
  CHECK(m.status().code() == ErrorCode::Driver);
}

//===----------------------------------------------------------------------===//
// C ABI
//===----------------------------------------------------------------------===//

namespace {
tlc_arg cTensor(void *data, tlc_dtype dtype, std::vector<int64_t> shape) {
  tlc_arg a;
  std::memset(&a, 0, sizeof(a));
  a.kind = TLC_ARG_TENSOR;
  a.dtype = dtype;
  a.data = data;
  a.rank = int32_t(shape.size());
  int64_t stride = 1;
  for (int d = a.rank - 1; d >= 0; --d) {
    a.shape[d] = shape[d];
    a.strides[d] = stride;
    stride *= shape[d];
  }
  return a;
}
} // namespace

TEST_CASE("C ABI: parse metadata and check arguments", "[runtime][c-abi]") {
  tlc_kernel_info *info = nullptr;
  REQUIRE(tlc_kernel_info_parse(kGemm, &info) == TLC_OK);

  tlc_arg args[4] = {cTensor(kA, TLC_DTYPE_BF16, {1000, 64}),
                     cTensor(kB, TLC_DTYPE_BF16, {64, 300}),
                     cTensor(kC, TLC_DTYPE_F32, {1000, 300}),
                     {}};
  args[3].kind = TLC_ARG_SCALAR;
  args[3].dtype = TLC_DTYPE_I32;
  args[3].scalar.i32 = 7;
  uint32_t grid[3] = {};
  size_t before = numAllocations();
  tlc_status status = tlc_check_args(info, args, 4, grid);
  size_t allocations = numAllocations() - before;
  CHECK(status == TLC_OK);
  CHECK(allocations == 0);
  CHECK(grid[0] == 3);
  CHECK(grid[1] == 8);
  CHECK(grid[2] == 1);

  args[1].dtype = TLC_DTYPE_F16;
  CHECK(tlc_check_args(info, args, 4, nullptr) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: kernel 'gemm': argument 'B' (param 1): expected dtype bf16, got "
        "f16");
  args[1].dtype = 99;
  CHECK(tlc_check_args(info, args, 4, nullptr) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: kernel 'gemm': argument 1 has an invalid dtype code 99");
  CHECK(tlc_check_args(info, args, 70, nullptr) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: kernel 'gemm': expected 4 arguments (A, B, C, n), got 70");
  CHECK(tlc_check_args(info, nullptr, 4, nullptr) ==
        TLC_ERROR_INVALID_ARGUMENT);
  tlc_kernel_info_free(info);

  CHECK(tlc_kernel_info_parse("{", &info) == TLC_ERROR_PARSE);
  CHECK_THAT(tlc_last_error(), Contains("invalid JSON"));
  CHECK(tlc_check_args(nullptr, args, 4, nullptr) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) == "tlc: the kernel info is NULL");
}

TEST_CASE("C ABI: GDN chunk plans", "[runtime][c-abi]") {
  const int32_t cu[] = {0, 1, 1, 65, 130};
  int32_t indices[16] = {}, offsets[4] = {};
  int64_t chunks = -1;
  REQUIRE(tlc_gdn_plan_chunks(cu, 4, 64, indices, 16, offsets, &chunks) ==
          TLC_OK);
  CHECK(chunks == 4);
  CHECK(std::vector<int32_t>(indices, indices + 8) ==
        std::vector<int32_t>{0, 0, 2, 0, 3, 0, 3, 1});
  CHECK(std::vector<int32_t>(offsets, offsets + 4) ==
        std::vector<int32_t>{0, 1, 1, 2});
  CHECK(tlc_gdn_plan_chunks(cu, 4, 64, indices, 7, offsets, &chunks) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: GDN plan: 8 chunk index entries do not fit the capacity 7");
  CHECK(tlc_gdn_plan_chunks(cu, 4, 0, indices, 16, offsets, &chunks) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(), Contains("chunk must be >= 1, got 0"));
  // 2^31 - 1 one-token chunks: refused by their count, before 16 GB of
  // lists are built (the libFuzzer harness ran out of memory here).
  const int32_t huge[] = {0, std::numeric_limits<int32_t>::max()};
  CHECK(tlc_gdn_plan_chunks(huge, 1, 1, indices, 16, offsets, &chunks) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: GDN plan: 4294967294 chunk index entries do not fit the "
        "capacity 16");
  CHECK(tlc_gdn_plan_chunks(huge, 1, std::numeric_limits<int64_t>::max(),
                            indices, 16, offsets, &chunks) == TLC_OK);
  CHECK(chunks == 1);
}

TEST_CASE("GDN plan sizes are counted without building the plans",
          "[runtime]") {
  // The C ABI checks a caller's buffers against these counts first.
  const std::vector<std::vector<int32_t>> batches = {{0},
                                                     {0, 0},
                                                     {0, 1},
                                                     {0, 64},
                                                     {0, 65},
                                                     {0, 1, 1, 65, 130},
                                                     {5, 5, 200, 1000},
                                                     {0, 32768, 32769}};
  for (const std::vector<int32_t> &cu : batches) {
    INFO("cu_seqlens of " << cu.size() << " entries, last " << cu.back());
    for (int64_t chunk : {int64_t(1), int64_t(7), int64_t(64)})
      CHECK(tlc::ops::countChunks(cu, chunk) ==
            tlc::ops::planChunks(cu, chunk).numChunks);
    for (int64_t segment :
         {int64_t(1), int64_t(2), int64_t(3), int64_t(100), int64_t(1) << 40})
      CHECK(
          tlc::ops::countSegmentOffsets(cu, 64, segment) ==
          int64_t(tlc::ops::planChunks(cu, 64, segment).segmentOffsets.size()));
  }
}

TEST_CASE("C ABI: GDN context-parallel plans", "[runtime][c-abi]") {
  // 1 + 130 tokens in 1-chunk segments: [0, 1), then 64 + 64 + 2.
  const int32_t cu[] = {0, 1, 131};
  int32_t offsets[8] = {}, firsts[3] = {};
  int64_t count = -1;
  REQUIRE(tlc_gdn_plan_segments(cu, 2, 8, 128, 132, TLC_DTYPE_BF16, 1, offsets,
                                8, firsts, &count) == TLC_OK);
  CHECK(count == 5);
  CHECK(std::vector<int32_t>(offsets, offsets + 5) ==
        std::vector<int32_t>{0, 1, 65, 129, 131});
  CHECK(std::vector<int32_t>(firsts, firsts + 3) ==
        std::vector<int32_t>{0, 1, 4});
  // The cost model: no device (0 multiprocessors) or short sequences, no
  // split; one 32k sequence of 8 heads on 132 multiprocessors, a split.
  CHECK(tlc_gdn_plan_segments(cu, 2, 8, 128, 0, TLC_DTYPE_BF16, 0, offsets, 8,
                              firsts, &count) == TLC_OK);
  CHECK(count == 0);
  const int32_t longOne[] = {0, 32768};
  std::vector<int32_t> many(600);
  CHECK(tlc_gdn_plan_segments(longOne, 1, 8, 128, 132, TLC_DTYPE_BF16, 0,
                              many.data(), int64_t(many.size()), firsts,
                              &count) == TLC_OK);
  CHECK(count > 2);
  CHECK(many[0] == 0);
  CHECK(many[count - 1] == 32768);
  CHECK(tlc_gdn_plan_segments(longOne, 1, 8, 128, 132, TLC_DTYPE_BF16, -1,
                              many.data(), int64_t(many.size()), firsts,
                              &count) == TLC_OK);
  CHECK(count == 0);
  // Errors name what is wrong.
  CHECK(tlc_gdn_plan_segments(cu, 2, 8, 128, 132, TLC_DTYPE_BF16, 1, offsets, 3,
                              firsts, &count) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(tlc_last_error()) ==
        "tlc: GDN plan: 5 segment offsets do not fit the capacity 3");
  CHECK(tlc_gdn_plan_segments(cu, 0, 8, 128, 132, TLC_DTYPE_BF16, 1, offsets, 8,
                              firsts, &count) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(),
             Contains("num_seqs must be in [1, 2147483646], got 0"));
  // A count int32 offsets cannot reach is refused before cu_seqlens is read
  // (reading that many would run past the caller's array).
  CHECK(tlc_gdn_plan_segments(cu, std::numeric_limits<int64_t>::max(), 8, 128,
                              132, TLC_DTYPE_BF16, 1, offsets, 8, firsts,
                              &count) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK(tlc_gdn_plan_segments(nullptr, 2, 8, 128, 132, TLC_DTYPE_BF16, 1,
                              offsets, 8, firsts,
                              &count) == TLC_ERROR_INVALID_ARGUMENT);
  const int32_t decreasing[] = {0, 70, 5};
  CHECK(tlc_gdn_plan_segments(decreasing, 2, 8, 128, 132, TLC_DTYPE_BF16, 1,
                              offsets, 8, firsts,
                              &count) == TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(), Contains("cu_seqlens[2] = 5"));
  CHECK(tlc_gdn_plan_segments(cu, 2, 0, 128, 132, TLC_DTYPE_BF16, 1, offsets, 8,
                              firsts, &count) == TLC_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("C ABI: loading errors", "[runtime][c-abi]") {
  tlc_module *module = nullptr;
  CHECK(tlc_module_load_files("/nonexistent/k.ptx", "/nonexistent/k.json",
                              &module) == TLC_ERROR_NOT_FOUND);
  CHECK(module == nullptr);
  CHECK(tlc_module_load_data("x", 1, "{", &module) == TLC_ERROR_PARSE);
  CHECK(tlc_module_load_data(nullptr, 0, kGemm, &module) ==
        TLC_ERROR_INVALID_ARGUMENT);
  tlc_module_free(nullptr);
  tlc_kernel_info_free(nullptr);
  CHECK(tlc_kernel_get_info(nullptr) == nullptr);
}

//===----------------------------------------------------------------------===//
// TMA tensor maps and the fallback kernel
//===----------------------------------------------------------------------===//

namespace {
/// kGemm with tensor maps on A and B, as the sm_90a pipeline emits them
/// (which asks only for element alignment of the data pointers).
json gemmWithTensorMaps() {
  json j = json::parse(kGemm);
  for (json &p : j["params"])
    if (p["kind"] == "tensor")
      p["alignment"] = p["dtype"] == "f32" ? 4 : 2;
  j["tensor_maps"] = json::parse(R"([
    {"name": "A_tma0", "param": "A", "box": [128, 64], "swizzle": 128},
    {"name": "B_tma1", "param": "B", "box": [64, 64], "swizzle": 128}])");
  j["fallback"] = json::parse(
      R"({"name": "gemm__fallback", "threads": 256, "dynamic_shared_bytes": 4096})");
  return j;
}
} // namespace

TEST_CASE("tensor maps are parsed and placed after the parameters",
          "[runtime]") {
  KernelInfo info = parse(gemmWithTensorMaps().dump());
  REQUIRE(info.tensorMaps.size() == 2);
  CHECK(info.tensorMaps[0].param == 0);
  CHECK(info.tensorMaps[1].param == 1);
  CHECK(info.tensorMaps[0].box == std::vector<uint32_t>{128, 64});
  CHECK(info.tensorMaps[1].swizzle == 128);
  // 3 tensors (40 bytes) and an i32 end at 124; maps are 64-byte aligned.
  CHECK(info.tensorMaps[0].offset == 128);
  CHECK(info.tensorMaps[1].offset == 256);
  CHECK(info.paramBytes == 384);
  REQUIRE(info.fallback);
  CHECK(info.fallback->name == "gemm__fallback");
  CHECK(info.fallback->threads == 256);
}

TEST_CASE("malformed tensor maps are rejected with the field named",
          "[runtime]") {
  auto errorAfter = [](const std::function<void(json &)> &edit) {
    json j = gemmWithTensorMaps();
    edit(j);
    Expected<KernelInfo> info = parseKernelInfo(j.dump());
    REQUIRE_FALSE(info);
    return info.status().message();
  };
  CHECK_THAT(errorAfter([](json &j) { j["tensor_maps"][0]["param"] = "n"; }),
             Contains("tensor_maps[0].param") &&
                 Contains("'n' is not a tensor parameter"));
  CHECK_THAT(errorAfter([](json &j) { j["tensor_maps"][1]["box"][0] = 512; }),
             Contains("tensor_maps[1].box[0]"));
  CHECK_THAT(errorAfter([](json &j) { j["tensor_maps"][0]["swizzle"] = 96; }),
             Contains("tensor_maps[0].swizzle") &&
                 Contains("must be 0, 32, 64 or 128"));
  CHECK_THAT(errorAfter([](json &j) { j.erase("fallback"); }),
             Contains("'fallback' is required with 'tensor_maps'"));
}

TEST_CASE("arguments TMA cannot describe select the fallback kernel",
          "[runtime]") {
  KernelInfo info = parse(gemmWithTensorMaps().dump());
  auto fallback = [&](const std::vector<Arg> &args) {
    Expected<LaunchPlan> plan = planLaunch(info, args);
    INFO(plan.status().message());
    REQUIRE(plan);
    return plan->useFallback;
  };
  // Rows of 64 bf16 = 128 bytes: every stride is a multiple of 16 bytes.
  CHECK_FALSE(fallback(gemmArgs(1000, 64, 64)));
  // K = 100: A's rows are 200 bytes apart.
  CHECK(fallback(gemmArgs(128, 64, 100)));
  // N = 257: B's rows are 514 bytes apart.
  CHECK(fallback(gemmArgs(128, 257, 64)));
  // A data pointer that is 2-byte but not 16-byte aligned.
  std::vector<Arg> args = gemmArgs(128, 64, 64);
  args[0].ref.data = ptr(0x10002);
  CHECK(fallback(args));
  // A transposed view: the innermost stride is not 1.
  args = gemmArgs(128, 64, 64);
  args[1] = Arg::tensor(kB, DType::BF16, {64, 64}, {1, 64});
  CHECK(fallback(args));
  // Kernels without tensor maps never fall back.
  KernelInfo plain = parse(kGemm);
  Expected<LaunchPlan> plan = planLaunch(plain, gemmArgs(128, 257, 100));
  REQUIRE(plan);
  CHECK_FALSE(plan->useFallback);
}

/// Valid shapes for a bf16 GDN backward (T = 100 in one sequence, H_qk = 1,
/// H_v = 2, K = V = 64) on a fake device pointer: nothing is launched.
static tlc_gdn_backward_args backwardArgs(void *p) {
  tlc_gdn_backward_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = cTensor(p, TLC_DTYPE_BF16, {1, 100, 1, 64});
  args.k = cTensor(p, TLC_DTYPE_BF16, {1, 100, 1, 64});
  args.v = cTensor(p, TLC_DTYPE_BF16, {1, 100, 2, 64});
  args.g = cTensor(p, TLC_DTYPE_F32, {1, 100, 2});
  args.beta = cTensor(p, TLC_DTYPE_F32, {1, 100, 2});
  args.cu_seqlens = cTensor(p, TLC_DTYPE_I32, {2});
  args.chunk_indices = cTensor(p, TLC_DTYPE_I32, {2, 2});
  args.chunk_offsets = cTensor(p, TLC_DTYPE_I32, {1});
  args.d_o = cTensor(p, TLC_DTYPE_BF16, {1, 100, 2, 64});
  args.dq = cTensor(p, TLC_DTYPE_BF16, {1, 100, 1, 64});
  args.dk = cTensor(p, TLC_DTYPE_BF16, {1, 100, 1, 64});
  args.dv = cTensor(p, TLC_DTYPE_BF16, {1, 100, 2, 64});
  args.dg = cTensor(p, TLC_DTYPE_F32, {1, 100, 2});
  args.dbeta = cTensor(p, TLC_DTYPE_F32, {1, 100, 2});
  return args;
}

TEST_CASE("C ABI: GDN backward arguments are checked by name",
          "[runtime][c-abi]") {
  // Shapes only: nothing is launched (the workspace query checks
  // everything the launch would).
  void *p = reinterpret_cast<void *>(uintptr_t(256));
  tlc_gdn_backward_args args = backwardArgs(p);
  size_t bytes = 0;
  REQUIRE(tlc_gdn_backward_workspace_bytes(&args, &bytes) == TLC_OK);
  CHECK(bytes > 0);
  args.dq = cTensor(p, TLC_DTYPE_BF16, {1, 100, 2, 64});
  CHECK(tlc_gdn_backward_workspace_bytes(&args, &bytes) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(),
             Contains("dq must have shape [B, T, H_qk, K] = [1, 100, 1, 64], "
                      "got [1, 100, 2, 64]"));
  args.dq = args.dk;
  args.dg = cTensor(p, TLC_DTYPE_BF16, {1, 100, 2});
  CHECK(tlc_gdn_backward_workspace_bytes(&args, &bytes) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(), Contains("dg must be f32, got bf16"));
  args.dg = args.dbeta;
  args.d_o = cTensor(p, TLC_DTYPE_F16, {1, 100, 2, 64});
  CHECK(tlc_gdn_backward_workspace_bytes(&args, &bytes) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(),
             Contains("do must have the dtype of v (bf16), got f16"));
  // A negative extent is refused where the tensor comes in (UBSan found
  // shape[0] = INT64_MIN reaching `shape[0] - 1` in the plan checks).
  args = backwardArgs(p);
  args.cu_seqlens.shape[0] = std::numeric_limits<int64_t>::min();
  CHECK(tlc_gdn_backward_workspace_bytes(&args, &bytes) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(),
             Contains("'cu_seqlens' has a negative extent: shape[0] = "
                      "-9223372036854775808"));
  args = backwardArgs(p);
  args.q =
      cTensor(p, TLC_DTYPE_BF16, {int64_t(1) << 40, int64_t(1) << 40, 1, 64});
  CHECK(tlc_gdn_backward_workspace_bytes(&args, &bytes) ==
        TLC_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(tlc_last_error(),
             Contains("'q' has more elements than int64 counts"));
  CHECK(tlc_gdn_backward_workspace_bytes(nullptr, &bytes) ==
        TLC_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("C ABI: the GDN kernel check names each missing kernel in turn",
          "[runtime][c-abi]") {
  // A dry run of the backward on an empty kernel folder: each check names
  // the next kernel the call would launch; creating it moves on to the next,
  // until the call would find them all.
  void *p = reinterpret_cast<void *>(uintptr_t(256));
  tlc_gdn_backward_args args = backwardArgs(p);
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "tlc-kernel-check-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::string> missing;
  for (int step = 0; step < 10; ++step) {
    tlc_status status = tlc_gdn_backward_check_kernels(dir.c_str(), &args);
    if (status == TLC_OK)
      break;
    REQUIRE(status == TLC_ERROR_NOT_FOUND);
    std::string message = tlc_last_error();
    CHECK_THAT(message, Contains("is not compiled") &&
                            Contains("(rebuild the kernels)"));
    size_t from = message.find(dir.string());
    size_t to = message.find(" is missing");
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    std::filesystem::path file = message.substr(from, to - from);
    missing.push_back(file.parent_path().filename().string() + "/" +
                      file.filename().string());
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << "";
  }
  CHECK(missing == std::vector<std::string>{
                       "K64_DTbf16_WRITE_ATrue/gdn_solve.ptx",
                       "K64_V64_DTbf16_USE_H0False_STORE_HTFalse_STATESTrue/"
                       "gdn_chunk.ptx",
                       "K64_V64_DTbf16_USE_DHTFalse_STORE_DH0False/"
                       "gdn_bwd_dh.ptx",
                       "K64_V64_DTbf16/gdn_bwd_chunk.ptx"});
  CHECK(tlc_gdn_backward_check_kernels(nullptr, &args) ==
        TLC_ERROR_INVALID_ARGUMENT);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the build compiles every GDN kernel the operator launches",
          "[runtime][c-abi]") {
  // The dry run of each configuration the operator supports (dtype, head
  // size, initial and final state, context parallelism; the backward with
  // and without dh0 and dht) against the kernels this build compiled
  // (tests/gpu/CMakeLists.txt): a variant missing from the build fails here
  // instead of at a user's first call.
  const std::string dir = TLC_GDN_KERNEL_DIR;
  REQUIRE(std::filesystem::is_directory(dir));
  void *p = reinterpret_cast<void *>(uintptr_t(256));
  for (tlc_dtype dt : {TLC_DTYPE_BF16, TLC_DTYPE_F16, TLC_DTYPE_F32}) {
    for (int64_t d : {int64_t(64), int64_t(128)}) {
      for (bool h0 : {false, true}) {
        for (int mode = 0; mode < 3; ++mode) { // ht off, ht on, split
          INFO("dtype " << dt << ", K = V = " << d << ", h0 " << h0 << ", mode "
                        << mode);
          tlc_gdn_forward_args f;
          std::memset(&f, 0, sizeof(f));
          f.q = cTensor(p, dt, {1, 200, 1, d});
          f.k = cTensor(p, dt, {1, 200, 1, d});
          f.v = cTensor(p, dt, {1, 200, 2, d});
          f.g = cTensor(p, TLC_DTYPE_F32, {1, 200, 2});
          f.beta = cTensor(p, TLC_DTYPE_F32, {1, 200, 2});
          f.cu_seqlens = cTensor(p, TLC_DTYPE_I32, {2});
          f.chunk_indices = cTensor(p, TLC_DTYPE_I32, {4, 2});
          f.chunk_offsets = cTensor(p, TLC_DTYPE_I32, {1});
          f.o = cTensor(p, dt, {1, 200, 2, d});
          if (h0)
            f.initial_state = cTensor(p, TLC_DTYPE_F32, {1, 2, d, d});
          if (mode > 0)
            f.final_state = cTensor(p, TLC_DTYPE_F32, {1, 2, d, d});
          if (mode == 2) { // two segments of two chunks
            f.segment_offsets = cTensor(p, TLC_DTYPE_I32, {3});
            f.sequence_segments = cTensor(p, TLC_DTYPE_I32, {2});
            f.chunk_offsets = cTensor(p, TLC_DTYPE_I32, {2});
          }
          tlc_status status = tlc_gdn_forward_check_kernels(dir.c_str(), &f);
          INFO(tlc_last_error());
          CHECK(status == TLC_OK);
        }
        for (bool dht : {false, true}) {
          INFO("backward: dtype " << dt << ", K = V = " << d << ", h0 " << h0
                                  << ", dht " << dht);
          tlc_gdn_backward_args b = backwardArgs(p);
          for (tlc_arg *a : {&b.q, &b.k, &b.v, &b.d_o, &b.dq, &b.dk, &b.dv}) {
            a->dtype = dt;
            a->shape[3] = d;
            a->strides[2] = d;
            a->strides[1] = d * a->shape[2];
            a->strides[0] = d * a->shape[2] * a->shape[1];
          }
          if (h0) {
            b.initial_state = cTensor(p, TLC_DTYPE_F32, {1, 2, d, d});
            b.dh0 = cTensor(p, TLC_DTYPE_F32, {1, 2, d, d});
          }
          if (dht)
            b.d_final_state = cTensor(p, TLC_DTYPE_F32, {1, 2, d, d});
          tlc_status status = tlc_gdn_backward_check_kernels(dir.c_str(), &b);
          INFO(tlc_last_error());
          CHECK(status == TLC_OK);
        }
      }
    }
  }
}
