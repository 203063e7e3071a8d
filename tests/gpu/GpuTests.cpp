//===- GpuTests.cpp - tlc kernels on the GPU against CPU references -------===//
//
// Each test compiles nothing: the kernels were compiled by tlc at build time
// (tests/gpu/CMakeLists.txt) into $TLC_GPU_KERNELS/<variant>/NAME.ptx+json.
// Inputs are fresh random data each run (the seed is printed), outputs are
// poisoned with NaN first, and shapes include ragged ones.
//
//===----------------------------------------------------------------------===//

#include "GpuTestUtil.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

using namespace tlc;
using namespace tlc::gputest;

TEST_CASE("axpy and silu_mul match the CPU on ragged shapes",
          "[gpu][elementwise]") {
  for (auto [m, n] : {std::pair<int64_t, int64_t>{1000, 1000},
                      {64, 128},
                      {1, 1},
                      {257, 129},
                      {3, 4097}}) {
    INFO("shape " << m << "x" << n);
    HostTensor x(rt::DType::BF16, {m, n}), y(rt::DType::BF16, {m, n});
    x.randomize(rng());
    y.randomize(rng());
    DeviceTensor dx(x), dy(y), dout(HostTensor(rt::DType::BF16, {m, n}));
    float alpha = std::uniform_real_distribution<float>(-2, 2)(rng());

    dout.poison();
    launch(loadKernel("elementwise", "axpy"),
           {dx.arg(), dy.arg(), dout.arg(), rt::Arg::f32(alpha)});
    HostTensor out = dout.download();
    std::vector<double> ref(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i)
      ref[i] = fromBF16(toBF16(alpha * x.get(i) + y.get(i)));
    CHECK(relativeRms(out, ref) < 4e-3);

    dout.poison();
    launch(loadKernel("elementwise", "silu_mul"),
           {dx.arg(), dy.arg(), dout.arg()});
    out = dout.download();
    for (int64_t i = 0; i < x.numel(); ++i) {
      double v = x.get(i);
      ref[i] = v / (1 + std::exp(-v)) * y.get(i);
    }
    CHECK(relativeRms(out, ref) < 8e-3);
  }
}

TEST_CASE("row sums and maxima match the CPU", "[gpu][reduce]") {
  for (auto [m, n] : {std::pair<int64_t, int64_t>{1000, 777},
                      {64, 128},
                      {3, 5000},
                      {129, 1}}) {
    INFO("shape " << m << "x" << n);
    HostTensor x(rt::DType::F32, {m, n});
    x.randomize(rng(), -3, 1);
    DeviceTensor dx(x), dsum(HostTensor(rt::DType::F32, {m})),
        dmax(HostTensor(rt::DType::F32, {m}));
    dsum.poison();
    dmax.poison();
    launch(loadKernel("reduce", "row_sum_max"),
           {dx.arg(), dsum.arg(), dmax.arg()});
    HostTensor sum = dsum.download(), max = dmax.download();
    std::vector<double> refSum(m, 0), refMax(m, -INFINITY);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        refSum[i] += x.get(i * n + j);
        refMax[i] = std::max<double>(refMax[i], x.get(i * n + j));
      }
    CHECK(relativeRms(sum, refSum) < 1e-5);
    CHECK(relativeRms(max, refMax) == 0);
  }
}

TEST_CASE("chunk-local cumsum matches the CPU", "[gpu][cumsum]") {
  for (auto [b, t, h] : {std::tuple<int64_t, int64_t, int64_t>{2, 1000, 5},
                         {1, 64, 8},
                         {3, 130, 17},
                         {1, 1, 1}}) {
    INFO("shape " << b << "x" << t << "x" << h);
    HostTensor g(rt::DType::F32, {b, t, h});
    g.randomize(rng(), -1, 0);
    DeviceTensor dg(g), dout(HostTensor(rt::DType::F32, {b, t, h}));
    dout.poison();
    launch(loadKernel("cumsum", "chunk_cumsum"), {dg.arg(), dout.arg()});
    HostTensor out = dout.download();
    std::vector<double> ref(g.numel());
    for (int64_t bi = 0; bi < b; ++bi)
      for (int64_t hi = 0; hi < h; ++hi) {
        double acc = 0;
        for (int64_t ti = 0; ti < t; ++ti) {
          if (ti % 64 == 0)
            acc = 0;
          int64_t i = (bi * t + ti) * h + hi;
          acc += g.get(i);
          ref[i] = acc;
        }
      }
    CHECK(relativeRms(out, ref) < 1e-6);
  }
}

TEST_CASE("softmax matches the CPU", "[gpu][softmax]") {
  for (auto [m, n] : {std::pair<int64_t, int64_t>{1000, 1000},
                      {7, 1024},
                      {33, 1},
                      {9, 513}}) {
    INFO("shape " << m << "x" << n);
    HostTensor x(rt::DType::BF16, {m, n});
    x.randomize(rng(), -4, 4);
    DeviceTensor dx(x), dy(HostTensor(rt::DType::BF16, {m, n}));
    dy.poison();
    launch(loadKernel("softmax", "softmax"), {dx.arg(), dy.arg()});
    HostTensor y = dy.download();
    std::vector<double> ref(x.numel());
    for (int64_t i = 0; i < m; ++i) {
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; ++j)
        mx = std::max<double>(mx, x.get(i * n + j));
      for (int64_t j = 0; j < n; ++j)
        sum += std::exp(x.get(i * n + j) - mx);
      for (int64_t j = 0; j < n; ++j)
        ref[i * n + j] = std::exp(x.get(i * n + j) - mx) / sum;
    }
    CHECK(relativeRms(y, ref) < 5e-3);
  }
}

namespace {

struct GemmCase {
  std::string variant, kernel = "gemm";
  rt::DType in = rt::DType::BF16, out = rt::DType::F32;
  bool transA = false, transB = false; // A stored K x M, B stored N x K
  double tolerance = 1e-5;
  /// Kernels with a fourth, scalar parameter computing (alpha A) @ B.
  std::optional<float> alpha;
};

/// C = op(A) @ op(B) checked against a float64 reference, on every row for
/// small problems and on a random sample of rows for large ones. Returns
/// whether the launch took the kernel's non-TMA fallback.
bool checkGemm(const GemmCase &g, int64_t m, int64_t n, int64_t k) {
  INFO(g.variant << "/" << g.kernel << " " << m << "x" << n << "x" << k);
  HostTensor a(g.in, g.transA ? std::vector<int64_t>{k, m}
                              : std::vector<int64_t>{m, k});
  HostTensor b(g.in, g.transB ? std::vector<int64_t>{n, k}
                              : std::vector<int64_t>{k, n});
  a.randomize(rng());
  b.randomize(rng());
  DeviceTensor da(a), db(b), dc(HostTensor(g.out, {m, n}));
  dc.poison();
  rt::Kernel &kernel = loadKernel(g.variant, g.kernel);
  std::vector<rt::Arg> args = {da.arg(), db.arg(), dc.arg()};
  if (g.alpha)
    args.push_back(rt::Arg::f32(*g.alpha));
  rt::Expected<rt::LaunchPlan> plan = rt::planLaunch(
      kernel.info(), rt::Span<const rt::Arg>(args.data(), args.size()));
  REQUIRE(plan);
  launch(kernel, rt::Span<const rt::Arg>(args.data(), args.size()));
  HostTensor c = dc.download();
  for (int64_t i = 0; i < c.numel(); ++i)
    REQUIRE(std::isfinite(c.get(i)));
  std::vector<int64_t> rows;
  if (m * n * k <= int64_t(1) << 30) {
    for (int64_t i = 0; i < m; ++i)
      rows.push_back(i);
  } else {
    std::uniform_int_distribution<int64_t> pick(0, m - 1);
    for (int i = 0; i < 48; ++i)
      rows.push_back(pick(rng()));
    rows.push_back(m - 1);
  }
  // B as a K x N row-major matrix of doubles.
  std::vector<double> bd(k * n);
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      bd[kk * n + j] = b.get(g.transB ? j * k + kk : kk * n + j);
  HostTensor got(rt::DType::F32, {int64_t(rows.size()), n});
  std::vector<double> ref(rows.size() * n, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    double *row = &ref[r * n];
    for (int64_t kk = 0; kk < k; ++kk) {
      double av = a.get(g.transA ? kk * m + rows[r] : rows[r] * k + kk) *
                  g.alpha.value_or(1.0f);
      const double *brow = &bd[kk * n];
      for (int64_t j = 0; j < n; ++j)
        row[j] += av * brow[j];
    }
    for (int64_t j = 0; j < n; ++j)
      got.set(r * n + j, c.get(rows[r] * n + j));
  }
  CHECK(relativeRms(got, ref) < g.tolerance);
  return plan->useFallback;
}

} // namespace

TEST_CASE("GEMM matches a float64 reference", "[gpu][gemm]") {
  using D = rt::DType;
  std::vector<GemmCase> cases = {
      {"gemm_bf16_bf16", "gemm", D::BF16, D::BF16, false, false, 4e-3},
      {"gemm_bf16_bf16_nows", "gemm", D::BF16, D::BF16, false, false, 4e-3},
      {"gemm_bf16_bf16_notma", "gemm", D::BF16, D::BF16, false, false, 4e-3},
      {"gemm_bf16_f32"},
      {"gemm_f16_f32", "gemm", D::F16},
      {"gemm_bf16_f32_s2"},
      {"gemm_bf16_f32_s4"},
      {"gemm_bf16_f32_1wg"},
      {"gemm_f32_f32", "gemm", D::F32},
      {"gemm_tile", "gemm_tile", D::BF16, D::BF16, false, false, 4e-3},
      {"gemm_transposed", "gemm_nt", D::BF16, D::F32, false, true},
      {"gemm_transposed", "gemm_tn", D::BF16, D::F32, true, false},
      // A through registers (scaled in the loop), B through the TMA ring.
      // alpha = 0.5 keeps the scaled bf16 A exact.
      {"gemm_rs", "gemm_rs", D::BF16, D::F32, false, false, 1e-5, 0.5f},
      {"gemm_rs_nows", "gemm_rs", D::BF16, D::F32, false, false, 1e-5, 0.5f},
      {"gemm_rs_notma", "gemm_rs", D::BF16, D::F32, false, false, 1e-5, 0.5f},
  };

  for (const GemmCase &g : cases) {
    bool tma = loadKernel(g.variant, g.kernel).info().fallback.has_value();
    int tmaRuns = 0, fallbackRuns = 0;
    // Ragged in every dimension; 8-element multiples keep TMA's 16-byte
    // strides, the others go through the fallback kernel.
    for (auto [m, n, k] :
         {std::tuple<int64_t, int64_t, int64_t>{1000, 1000, 1000},
          {128, 128, 32},
          {200, 328, 136},
          {64, 64, 4096},
          {8, 8, 8},
          {129, 257, 64},
          {1, 1, 1},
          {300, 200, 100}}) {
      // Under compute-sanitizer (TLC_GPU_QUICK=1) only the small shapes.
      if (std::getenv("TLC_GPU_QUICK") && m * n * k > (int64_t(1) << 23)) {
        ++tmaRuns;
        continue;
      }
      bool fallback = checkGemm(g, m, n, k);
      (fallback ? fallbackRuns : tmaRuns)++;
    }
    if (tma) {
      CHECK(tmaRuns >= 5); // both paths were exercised
      CHECK(fallbackRuns >= 2);
    }
  }
}

TEST_CASE("GEMM at benchmark sizes matches a float64 reference",
          "[gpu][gemm][large]") {
  REQUIRE_FALSE(checkGemm({"gemm_bf16_f32"}, 4096, 4096, 4096));
  REQUIRE_FALSE(checkGemm({"gemm_bf16_f32"}, 8192, 8192, 1024));
}

TEST_CASE("invalid arguments are rejected before any launch",
          "[gpu][validation]") {
  rt::Kernel &axpy = loadKernel("elementwise", "axpy");
  HostTensor x(rt::DType::BF16, {64, 128});
  x.randomize(rng());
  DeviceTensor dx(x), dy(x), dout(HostTensor(rt::DType::BF16, {64, 128}));
  HostTensor wrongType(rt::DType::F32, {64, 128});
  HostTensor wrongRank(rt::DType::BF16, {64, 128, 1});
  HostTensor wrongSize(rt::DType::BF16, {64, 100});
  DeviceTensor dWrongType(wrongType), dWrongRank(wrongRank),
      dWrongSize(wrongSize);
  rt::Arg misaligned = dx.arg();
  misaligned.ref.data = static_cast<char *>(misaligned.ref.data) + 1;

  struct Case {
    const char *what;
    std::vector<rt::Arg> args;
    const char *message;
  } cases[] = {
      {"dtype",
       {dWrongType.arg(), dy.arg(), dout.arg(), rt::Arg::f32(1)},
       "expected dtype bf16"},
      {"rank",
       {dWrongRank.arg(), dy.arg(), dout.arg(), rt::Arg::f32(1)},
       "expected rank 2"},
      {"dims",
       {dx.arg(), dWrongSize.arg(), dout.arg(), rt::Arg::f32(1)},
       "'N'"},
      {"alignment",
       {misaligned, dy.arg(), dout.arg(), rt::Arg::f32(1)},
       "align"},
      {"count", {dx.arg(), dy.arg(), dout.arg()}, "argument"},
  };
  for (const Case &c : cases) {
    INFO(c.what);
    dout.poison();
    rt::Status status = axpy.launch(
        nullptr, rt::Span<const rt::Arg>(c.args.data(), c.args.size()));
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.message(), Catch::Contains(c.message));
    HostTensor out = dout.download(); // Nothing was launched: still poison.
    CHECK(std::isnan(out.get(0)));
  }
}

TEST_CASE("a launch captured in a CUDA graph replays", "[gpu][graph]") {
  rt::Kernel &axpy = loadKernel("elementwise", "axpy");
  HostTensor x(rt::DType::BF16, {100, 300}), y(rt::DType::BF16, {100, 300});
  DeviceTensor dx(x), dy(y), dout(HostTensor(rt::DType::BF16, {100, 300}));
  CUstream stream;
  TLC_CU(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  TLC_CU(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL));
  rt::Arg args[] = {dx.arg(), dy.arg(), dout.arg(), rt::Arg::f32(0.5f)};
  rt::Status status = axpy.launch(stream, rt::Span<const rt::Arg>(args, 4));
  CUgraph graph;
  TLC_CU(cuStreamEndCapture(stream, &graph));
  REQUIRE(status.ok());
  CUgraphExec exec;
  TLC_CU(cuGraphInstantiate(&exec, graph, 0));
  for (int replay = 0; replay < 2; ++replay) {
    x.randomize(rng());
    y.randomize(rng());
    dx.upload(x);
    dy.upload(y);
    dout.poison();
    TLC_CU(cuGraphLaunch(exec, stream));
    TLC_CU(cuStreamSynchronize(stream));
    HostTensor out = dout.download();
    std::vector<double> ref(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i)
      ref[i] = fromBF16(toBF16(0.5f * x.get(i) + y.get(i)));
    CHECK(relativeRms(out, ref) < 4e-3);
  }
  cuGraphExecDestroy(exec);
  cuGraphDestroy(graph);
  cuStreamDestroy(stream);
}

TEST_CASE("GEMM throughput", "[gpu][bench]") {
  struct Size {
    int64_t m, n, k;
  };
  // TLC_BENCH_SIZE=MxNxK and TLC_BENCH_VARIANT=NAME narrow the run (for a
  // profiler).
  const char *onlySize = std::getenv("TLC_BENCH_SIZE");
  const char *onlyVariant = std::getenv("TLC_BENCH_VARIANT");
  for (Size size : {Size{4096, 4096, 4096}, Size{8192, 8192, 8192},
                    Size{8192, 8192, 1024}}) {
    std::string sizeName = std::to_string(size.m) + "x" +
                           std::to_string(size.n) + "x" +
                           std::to_string(size.k);
    if (onlySize && sizeName != onlySize)
      continue;
    HostTensor a(rt::DType::BF16, {size.m, size.k});
    HostTensor b(rt::DType::BF16, {size.k, size.n});
    a.randomize(rng());
    b.randomize(rng());
    DeviceTensor da(a), db(b);
    DeviceTensor c32(HostTensor(rt::DType::F32, {size.m, size.n}));
    DeviceTensor c16(HostTensor(rt::DType::BF16, {size.m, size.n}));
    // bf16 output is what torch.matmul (the anchor) produces. gemm_rs pairs
    // a fragment computed in the loop with a ring tile (TMA + producer +
    // wgmma with A from registers), against the same kernel without the
    // producer and without TMA (cp.async + mma.sync, the path such loops
    // took before).
    struct Variant {
      const char *name, *kernel;
    };
    for (Variant variant : {Variant{"gemm_bf16_bf16", "gemm"},
                            {"gemm_bf16_bf16_nows", "gemm"},
                            {"gemm_bf16_bf16_notma", "gemm"},
                            {"gemm_bf16_f32", "gemm"},
                            {"gemm_rs", "gemm_rs"},
                            {"gemm_rs_nows", "gemm_rs"},
                            {"gemm_rs_notma", "gemm_rs"}}) {
      if (onlyVariant && std::string(variant.name) != onlyVariant)
        continue;
      rt::Kernel &gemm = loadKernel(variant.name, variant.kernel);
      bool bf16Out = gemm.info().params[2].dtype == rt::DType::BF16;
      // gemm_rs's fourth parameter: alpha.
      rt::Arg args[] = {da.arg(), db.arg(), (bf16Out ? c16 : c32).arg(),
                        rt::Arg::f32(0.5f)};
      size_t numArgs = gemm.info().params.size();
      double ms = medianMs(
          [&] {
            REQUIRE(gemm.launch(nullptr, rt::Span<const rt::Arg>(args, numArgs))
                        .ok());
          },
          size.m * size.n * size.k >= (int64_t(1) << 39) ? 10 : 20);
      std::printf("BENCH gemm %s bf16->%s %lldx%lldx%lld: %.3f ms, %.1f "
                  "TFLOP/s\n",
                  variant.name, bf16Out ? "bf16" : "f32", (long long)size.m,
                  (long long)size.n, (long long)size.k, ms,
                  2.0 * size.m * size.n * size.k / (ms * 1e-3) / 1e12);
    }
  }
}

//===----------------------------------------------------------------------===//
// Explicit warp specialisation: roles and typed channels
//===----------------------------------------------------------------------===//

namespace {

/// Y = bf16(bf16(X W1) W2) W3 in double, with the bf16 roundings of the
/// hand-offs between roles.
std::vector<double> chainReference(const HostTensor &x,
                                   const HostTensor *const (&w)[3], int64_t t,
                                   int64_t d) {
  std::vector<double> cur(t * d), next(t * d);
  for (int64_t i = 0; i < t * d; ++i)
    cur[i] = x.get(i);
  for (int stage = 0; stage < 3; ++stage) {
    for (int64_t r = 0; r < t; ++r)
      for (int64_t c = 0; c < d; ++c) {
        double sum = 0;
        for (int64_t k = 0; k < d; ++k)
          sum += cur[r * d + k] * w[stage]->get(k * d + c);
        next[r * d + c] =
            stage < 2 ? fromBF16(toBF16(static_cast<float>(sum))) : sum;
      }
    std::swap(cur, next);
  }
  return cur;
}

/// Y = H1 + bf16(bf16(H1) W2) W3 with H1 = X W1: what ws_cycle computes.
std::vector<double> cycleReference(const HostTensor &x,
                                   const HostTensor *const (&w)[3], int64_t t,
                                   int64_t d) {
  auto matmul = [&](const std::vector<double> &a, const HostTensor &b) {
    std::vector<double> c(t * d, 0.0);
    for (int64_t r = 0; r < t; ++r)
      for (int64_t k = 0; k < d; ++k)
        for (int64_t j = 0; j < d; ++j)
          c[r * d + j] += a[r * d + k] * b.get(k * d + j);
    return c;
  };
  auto bf16 = [](std::vector<double> v) {
    for (double &e : v)
      e = fromBF16(toBF16(static_cast<float>(e)));
    return v;
  };
  std::vector<double> xs(t * d);
  for (int64_t i = 0; i < t * d; ++i)
    xs[i] = x.get(i);
  std::vector<double> h1 = matmul(xs, *w[0]);
  std::vector<double> y = matmul(bf16(matmul(bf16(h1), *w[1])), *w[2]);
  for (int64_t i = 0; i < t * d; ++i)
    y[i] += h1[i];
  return y;
}

} // namespace

TEST_CASE("roles and channels: a chain and a cycle of warpgroups match the "
          "CPU, with TMA and through the fallback kernel",
          "[gpu][ws]") {
  const int64_t d = 64;
  struct Case {
    const char *variant, *kernel;
    bool cycle;
  };
  for (Case c : {Case{"ws_chain", "ws_chain", false},
                 Case{"ws_chain_s1", "ws_chain", false},
                 Case{"ws_chain", "chain_plain", false},
                 Case{"ws_cycle", "ws_cycle", true},
                 Case{"ws_cycle_s3", "ws_cycle", true},
                 Case{"ws_cycle", "cycle_plain", true}})
    for (int64_t t : {int64_t(64), int64_t(1000), int64_t(64 * 132 * 3 + 17)})
      for (bool misaligned : {false, true}) {
        rt::Kernel &kernel = loadKernel(c.variant, c.kernel);
        bool roles = kernel.info().fallback.has_value();
        if (misaligned && !roles)
          continue;
        INFO(c.kernel << " T=" << t << (misaligned ? " misaligned X" : ""));
        HostTensor x(rt::DType::BF16, {t, d});
        x.randomize(rng());
        HostTensor w1(rt::DType::BF16, {d, d}), w2(rt::DType::BF16, {d, d}),
            w3(rt::DType::BF16, {d, d});
        for (HostTensor *w : {&w1, &w2, &w3})
          w->randomize(rng(), -0.25f, 0.25f);
        // X one element past a 16-byte boundary: TMA cannot load it, so the
        // runtime launches the kernel's fallback (roles without TMA).
        HostTensor shifted(rt::DType::BF16, {t * d + 8});
        for (int64_t i = 0; i < t * d; ++i)
          shifted.set(i + 1, x.get(i));
        DeviceTensor dx(misaligned ? shifted : x), dw1(w1), dw2(w2), dw3(w3),
            dy(HostTensor(rt::DType::F32, {t, d}));
        dy.poison();
        rt::Arg xArg = dx.arg();
        if (misaligned)
          xArg = rt::Arg::tensor(rt::TensorRef::make(
              reinterpret_cast<char *>(dx.ptr) + 2, rt::DType::BF16, {t, d}));
        rt::Arg args[] = {xArg, dw1.arg(), dw2.arg(), dw3.arg(), dy.arg()};
        rt::Expected<rt::LaunchPlan> plan =
            rt::planLaunch(kernel.info(), rt::Span<const rt::Arg>(args, 5));
        REQUIRE(plan);
        CHECK(plan->useFallback == misaligned);
        REQUIRE(kernel.launch(nullptr, rt::Span<const rt::Arg>(args, 5)).ok());
        HostTensor y = dy.download();
        const HostTensor *const w[3] = {&w1, &w2, &w3};
        CHECK(relativeRms(y, c.cycle ? cycleReference(x, w, t, d)
                                     : chainReference(x, w, t, d)) < 1e-2);
      }
}

TEST_CASE("roles and channels: a loader warp streaming 4-D boxes to one "
          "warpgroup matches the CPU",
          "[gpu][ws]") {
  const int64_t d = 128;
  for (const char *variant : {"ws_stream", "ws_stream_s4"})
    for (auto [b, t, h] : {std::tuple<int64_t, int64_t, int64_t>{1, 64, 1},
                           {2, 1000, 3},
                           {1, 4099, 2}}) {
      INFO(variant << " B=" << b << " T=" << t << " H=" << h);
      HostTensor kin(rt::DType::BF16, {b, t, h, d}), s(rt::DType::BF16, {d, d});
      kin.randomize(rng());
      s.randomize(rng(), -0.25f, 0.25f);
      DeviceTensor dk(kin), ds(s),
          dout(HostTensor(rt::DType::F32, {b, t, h, d}));
      dout.poison();
      launch(loadKernel(variant, "ws_stream"),
             {dk.arg(), ds.arg(), dout.arg()});
      HostTensor out = dout.download();
      std::vector<double> want(b * t * h * d, 0.0);
      for (int64_t row = 0; row < b * t * h; ++row)
        for (int64_t k = 0; k < d; ++k) {
          double a = kin.get(row * d + k);
          for (int64_t j = 0; j < d; ++j)
            want[row * d + j] += a * s.get(k * d + j);
        }
      CHECK(relativeRms(out, want) < 1e-4);
    }
}

TEST_CASE("roles and channels: per-tile time against one warpgroup",
          "[gpu][bench][ws]") {
  const int64_t d = 64, tilesPerBlock = 64, t = 132 * 64 * tilesPerBlock;
  HostTensor x(rt::DType::BF16, {t, d}), w(rt::DType::BF16, {d, d});
  x.randomize(rng());
  w.randomize(rng(), -0.25f, 0.25f);
  DeviceTensor dx(x), dw(w), dy(HostTensor(rt::DType::F32, {t, d}));
  for (auto [variant, kernel] :
       {std::pair<const char *, const char *>{"ws_chain", "ws_chain"},
        {"ws_chain", "chain_plain"},
        {"ws_cycle", "ws_cycle"},
        {"ws_cycle", "cycle_plain"}}) {
    rt::Kernel &k = loadKernel(variant, kernel);
    rt::Arg args[] = {dx.arg(), dw.arg(), dw.arg(), dw.arg(), dy.arg()};
    double ms = medianMs(
        [&] {
          REQUIRE(k.launch(nullptr, rt::Span<const rt::Arg>(args, 5)).ok());
        },
        20);
    std::printf("BENCH %s T=%lld D=64: %.3f ms, %.3f us per tile per block "
                "(%lld tiles a block)\n",
                kernel, (long long)t, ms, ms * 1e3 / tilesPerBlock,
                (long long)tilesPerBlock);
  }
}

TEST_CASE("two chained GEMMs, the second with A in registers, match the CPU",
          "[gpu][gemm][rs]") {
  const int64_t d = 64;
  const float scale = 0.125f;
  for (auto [m, n] :
       {std::pair<int64_t, int64_t>{64, 64}, {200, 130}, {1000, 1000}}) {
    INFO("M=" << m << " N=" << n);
    HostTensor q(rt::DType::BF16, {m, d}), k(rt::DType::BF16, {n, d}),
        v(rt::DType::BF16, {n, d});
    for (HostTensor *t : {&q, &k, &v})
      t->randomize(rng());
    DeviceTensor dq(q), dk(k), dv(v), dout(HostTensor(rt::DType::F32, {m, d}));
    dout.poison();
    launch(loadKernel("attention_block", "attention_block"),
           {dq.arg(), dk.arg(), dv.arg(), dout.arg(), rt::Arg::f32(scale)});
    HostTensor out = dout.download();
    std::vector<double> ref(m * d, 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sij = 0;
        for (int64_t c = 0; c < d; ++c)
          sij += double(q.get(i * d + c)) * k.get(j * d + c);
        double p = fromBF16(toBF16(static_cast<float>(sij * scale)));
        for (int64_t c = 0; c < d; ++c)
          ref[i * d + c] += p * v.get(j * d + c);
      }
    CHECK(relativeRms(out, ref) < 1e-2);
  }
}

TEST_CASE("thread-block clusters: every block knows its rank",
          "[gpu][cluster]") {
  for (auto [variant, cy] :
       {std::pair<const char *, int64_t>{"cluster", 2}, {"cluster_x", 1}}) {
    rt::Kernel &kernel = loadKernel(variant, "cluster_ranks");
    for (auto [gy, gx] :
         {std::pair<int64_t, int64_t>{2, 2}, {4, 6}, {8, 132}}) {
      INFO(variant << ": grid " << gx << " x " << gy);
      DeviceTensor r(HostTensor(rt::DType::I32, {gy, gx}));
      r.poison();
      launch(kernel, {r.arg()});
      HostTensor got = r.download();
      for (int64_t y = 0; y < gy; ++y)
        for (int64_t x = 0; x < gx; ++x)
          REQUIRE(got.get(y * gx + x) == float(x % 2 + 2 * (y % cy)));
    }
    // A grid the cluster does not tile is refused before the launch.
    DeviceTensor r(HostTensor(rt::DType::I32, {4, 3}));
    rt::Arg args[] = {r.arg()};
    rt::Status status =
        kernel.launch(nullptr, rt::Span<const rt::Arg>(args, 1));
    REQUIRE_FALSE(status.ok());
    CHECK_THAT(status.message(),
               Catch::Contains("not a multiple of the cluster size 2"));
  }
}
