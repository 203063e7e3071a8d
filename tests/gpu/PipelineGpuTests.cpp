//===- PipelineGpuTests.cpp - Pipelined loops beyond copy + gemm ----------===//
//
// Loops that the sm_90a pipeline takes although their bodies are more than
// copies and gemms: rings masked and gated in place, a fragment state
// carried across iterations with element-wise updates between gemms. Each
// kernel is checked against a float64 reference on ragged shapes, in three
// builds: the default (TMA rings, a producer warpgroup, wgmma), --no-ws (TMA
// and wgmma, no producer) and --no-tma (cp.async + mma.sync); the bench
// cases time the three in one run.
//
//===----------------------------------------------------------------------===//

#include "GpuTestUtil.h"
#include "common/LinearAttentionReference.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

using namespace tlc;
using namespace tlc::gputest;

namespace {

/// The three builds of each kernel, and the block size the default build
/// must have: its computing threads plus a producer warpgroup.
struct Build {
  const char *suffix;
  bool producer, tma;
};
constexpr Build kBuilds[] = {
    {"", true, true}, {"_nows", false, true}, {"_notma", false, false}};

void checkStructure(const rt::KernelInfo &info, const Build &build,
                    int computeThreads) {
  INFO(info.name);
  CHECK(info.tensorMaps.empty() == !build.tma);
  CHECK(info.threads == computeThreads + (build.producer ? 128 : 0));
}

/// Downloads `out`, requires every element finite and checks it against
/// `ref` (relative RMS error below `tolerance`; absolute when ref is 0).
void checkOutput(const DeviceTensor &out, const std::vector<double> &ref,
                 double tolerance) {
  HostTensor got = out.download();
  for (int64_t i = 0; i < got.numel(); ++i)
    REQUIRE(std::isfinite(got.get(i)));
  CHECK(relativeRms(got, ref) < tolerance);
}

/// C = A @ (mask * g * B): row kk of B counts when kk < kvalid, scaled by
/// g[kk].
std::vector<double> maskedGemmReference(const HostTensor &a,
                                        const HostTensor &b,
                                        const HostTensor &g, int64_t m,
                                        int64_t n, int64_t k, int64_t kvalid) {
  std::vector<double> c(m * n, 0);
  for (int64_t kk = 0; kk < std::min(k, kvalid); ++kk) {
    // The kernel rounds the gated row to bf16 in place.
    std::vector<double> row(n);
    for (int64_t j = 0; j < n; ++j)
      row[j] = fromBF16(toBF16(b.get(kk * n + j) * g.get(kk)));
    for (int64_t i = 0; i < m; ++i) {
      double av = a.get(i * k + kk);
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] += av * row[j];
    }
  }
  return c;
}

/// Fresh random inputs of masked_gemm (A, B and the gate G in [0, 2)) and
/// its output C, on the device.
struct MaskedGemmProblem {
  int64_t m, n, k;
  HostTensor a{rt::DType::BF16, {m, k}}, b{rt::DType::BF16, {k, n}},
      g{rt::DType::F32, {k}};
  DeviceTensor da{randomized(a)}, db{randomized(b)}, dg{randomized(g, 0, 2)},
      dc{HostTensor(rt::DType::F32, {m, n})};
  static HostTensor &randomized(HostTensor &t, float lo = -1, float hi = 1) {
    t.randomize(rng(), lo, hi);
    return t;
  }
  std::vector<rt::Arg> args(int64_t kvalid) const {
    return {da.arg(), db.arg(), dg.arg(), dc.arg(),
            rt::Arg::i32(static_cast<int32_t>(kvalid))};
  }
};

/// Fresh random inputs of two_loops (A1 @ B1 + A2 @ B2) and its output.
struct TwoLoopsProblem {
  int64_t m, n, k1, k2;
  HostTensor a1{rt::DType::BF16, {m, k1}}, b1{rt::DType::BF16, {k1, n}},
      a2{rt::DType::BF16, {m, k2}}, b2{rt::DType::BF16, {k2, n}};
  DeviceTensor da1{MaskedGemmProblem::randomized(a1)},
      db1{MaskedGemmProblem::randomized(b1)},
      da2{MaskedGemmProblem::randomized(a2)},
      db2{MaskedGemmProblem::randomized(b2)},
      dc{HostTensor(rt::DType::F32, {m, n})};
  std::vector<rt::Arg> args() const {
    return {da1.arg(), db1.arg(), da2.arg(), db2.arg(), dc.arg()};
  }
  std::vector<double> reference() const {
    std::vector<double> c(m * n, 0);
    for (auto [a, b, k] : {std::tuple{&a1, &b1, k1}, {&a2, &b2, k2}})
      for (int64_t i = 0; i < m; ++i)
        for (int64_t kk = 0; kk < k; ++kk) {
          double av = a->get(i * k + kk);
          for (int64_t j = 0; j < n; ++j)
            c[i * n + j] += av * b->get(kk * n + j);
        }
    return c;
  }
};

/// Fresh random inputs of linear_attention (small keys keep the state, a
/// sum over up to T rows, near 1) and its output, on the device.
struct LinearAttentionProblem {
  int64_t bhs, t, d = 64, dv = 64;
  HostTensor q{rt::DType::BF16, {bhs, t, d}}, k{rt::DType::BF16, {bhs, t, d}},
      v{rt::DType::BF16, {bhs, t, dv}};
  DeviceTensor dq{MaskedGemmProblem::randomized(q)},
      dk{MaskedGemmProblem::randomized(k, -0.125f, 0.125f)},
      dv_{MaskedGemmProblem::randomized(v)},
      dout{HostTensor(rt::DType::F32, {bhs, t, dv})};
  std::vector<rt::Arg> args(float decay) const {
    return {dq.arg(), dk.arg(), dv_.arg(), dout.arg(), rt::Arg::f32(decay)};
  }
};

} // namespace

TEST_CASE("a TMA ring masked past a run-time bound and gated in place "
          "matches the CPU",
          "[gpu][pipeline]") {
  for (const Build &build : kBuilds) {
    std::string variant = std::string("masked_gemm") + build.suffix;
    rt::Kernel &kernel = loadKernel(variant, "masked_gemm");
    checkStructure(kernel.info(), build, 256);
    // Ragged in every dimension; the bound falls inside a tile, on a tile
    // edge, before the first row and past the last.
    for (auto [m, n, k, kvalid] :
         {std::tuple<int64_t, int64_t, int64_t, int64_t>{256, 256, 512, 300},
          {200, 136, 1000, 1000},
          {129, 264, 136, 64},
          {64, 64, 64, 0},
          {1000, 1000, 1000, 5000}}) {
      // Under compute-sanitizer (TLC_GPU_QUICK=1) only the small shapes.
      if (std::getenv("TLC_GPU_QUICK") && m * n * k > (int64_t(1) << 23))
        continue;
      INFO(variant << " " << m << "x" << n << "x" << k << " kvalid " << kvalid);
      MaskedGemmProblem p{m, n, k};
      p.dc.poison();
      launch(kernel, p.args(kvalid));
      // All-zero when nothing counts: compared absolutely.
      checkOutput(p.dc, maskedGemmReference(p.a, p.b, p.g, m, n, k, kvalid),
                  1e-5);
    }
  }
}

TEST_CASE("two pipelined loops in one kernel match the CPU",
          "[gpu][pipeline]") {
  for (const Build &build : kBuilds) {
    std::string variant = std::string("two_loops") + build.suffix;
    rt::Kernel &kernel = loadKernel(variant, "two_loops");
    checkStructure(kernel.info(), build, 256);
    // Ragged; one loop may run no iteration at all.
    for (auto [m, n, k1, k2] :
         {std::tuple<int64_t, int64_t, int64_t, int64_t>{256, 256, 512, 192},
          {200, 136, 1000, 64},
          {129, 264, 8, 520},
          {64, 64, 0, 128},
          {300, 200, 136, 0}}) {
      INFO(variant << " " << m << "x" << n << " K1=" << k1 << " K2=" << k2);
      TwoLoopsProblem p{m, n, k1, k2};
      p.dc.poison();
      launch(kernel, p.args());
      checkOutput(p.dc, p.reference(), 1e-5);
    }
  }
}

TEST_CASE("chunked linear attention with a fragment state carried across "
          "chunks matches the CPU",
          "[gpu][pipeline][linear-attention]") {
  const int64_t d = 64, dv = 64, chunk = 64;
  for (const Build &build : kBuilds) {
    std::string variant = std::string("linear_attention") + build.suffix;
    rt::Kernel &kernel = loadKernel(variant, "linear_attention");
    checkStructure(kernel.info(), build, 128);
    for (auto [bhs, t, decay] :
         {std::tuple<int64_t, int64_t, float>{1, 64, 1.f},
          {3, 200, 0.9f},
          {2, 1000, 1.f},
          {5, 1, 0.5f},
          {1, 4097, 0.95f}}) {
      INFO(variant << " BH=" << bhs << " T=" << t << " decay=" << decay);
      LinearAttentionProblem p{bhs, t};
      p.dout.poison();
      launch(kernel, p.args(decay));
      auto input = [&](const HostTensor &x, int64_t width) {
        return [&x, t, width](int64_t bh, int64_t row, int64_t col) {
          return double(x.get((bh * t + row) * width + col));
        };
      };
      auto bf16 = [](double x) {
        return double(fromBF16(toBF16(static_cast<float>(x))));
      };
      checkOutput(p.dout,
                  test::linearAttentionReference(input(p.q, d), input(p.k, d),
                                                 input(p.v, dv), bhs, t, d, dv,
                                                 chunk, decay, bf16),
                  1e-2);
    }
  }
}

namespace {

/// The variant folders of `kernel`'s three builds.
std::vector<std::string> buildsOf(const std::string &kernel) {
  std::vector<std::string> variants;
  for (const Build &build : kBuilds)
    variants.push_back(kernel + build.suffix);
  return variants;
}

/// Times `kernel` in each of `variants` on `args` and prints one BENCH line
/// each: `what` names the problem, `flops` its work.
void bench(const std::string &kernel, const std::vector<std::string> &variants,
           std::vector<rt::Arg> args, const std::string &what, double flops) {
  for (const std::string &variant : variants) {
    rt::Kernel &k = loadKernel(variant, kernel);
    rt::Span<const rt::Arg> span(args.data(), args.size());
    double ms = medianMs([&] { REQUIRE(k.launch(nullptr, span).ok()); }, 20);
    std::printf("BENCH pipeline %s %s: %.3f ms, %.1f TFLOP/s\n",
                variant.c_str(), what.c_str(), ms, flops / (ms * 1e-3) / 1e12);
  }
}

} // namespace

TEST_CASE("pipelined loops beyond copy + gemm: time against --no-ws and "
          "--no-tma",
          "[gpu][bench]") {
  MaskedGemmProblem gemm{4096, 4096, 4096};
  bench("masked_gemm", buildsOf("masked_gemm"), gemm.args(4096 - 100),
        "4096x4096x4096", 2.0 * 4096 * 4096 * 4096);
  TwoLoopsProblem two{4096, 4096, 2048, 2048};
  std::vector<std::string> twoVariants = buildsOf("two_loops");
  // The 128 x 128 tile, where occupancy favours --no-ws (CMakeLists.txt).
  twoVariants.insert(twoVariants.end(),
                     {"two_loops_n128", "two_loops_n128_nows"});
  bench("two_loops", twoVariants, two.args(), "4096x4096x(2048+2048)",
        2.0 * 4096 * 4096 * 4096);
  // Four 64-row gemms of K = 64 per chunk (the causal one counted whole).
  LinearAttentionProblem attention{256, 4096};
  bench("linear_attention", buildsOf("linear_attention"), attention.args(0.99f),
        "BH=256 T=4096 D=DV=64", 4.0 * 2 * 256 * 4096 * 64 * 64);
}
