//===- InterpreterTest.cpp - The CPU interpreter against C++ references ---===//
//
// Kernels are compiled from .tl source (tlc::parseModule + buildTileModule),
// run by tlc::interp::runKernel on small random inputs and compared with
// simple C++ references. Errors are checked as printed: `test.tl:LINE:COL:
// error: ...`.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"
#include "common/LinearAttentionReference.h"

#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/Parser.h"
#include "tlc/Interpreter/Interpreter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <sstream>

using namespace tlc;
using namespace tlc::interp;

namespace {

/// A compiled .tl source whose kernels can be run; diagnostics of the
/// compilation and of each run are captured.
struct Program {
  explicit Program(const std::string &text,
                   std::vector<std::string> defines = {})
      : src(text) {
    std::optional<ast::Module> ast = parseModule(src.text(), src.diags);
    if (ast) {
      FrontendOptions options;
      options.defines = std::move(defines);
      module = buildTileModule(context, *ast, options, src.diags);
    }
    compileErrors = src.errors();
  }

  /// Runs `name`; `errors` holds what the run printed.
  bool run(llvm::StringRef name, std::vector<KernelArg> args) {
    size_t before = src.errors().size();
    mlir::SourceMgrDiagnosticHandler handler(src.sourceMgr, &context, src.os);
    bool ok = mlir::succeeded(runKernel(*module, name, args));
    errors = src.errors().substr(before);
    return ok;
  }

  test::Source src;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string compileErrors;
  std::string errors;
};

std::string readExample(const std::string &name) {
  std::string path = std::string(TLC_SOURCE_DIR) + "/kernels/examples/" + name;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  REQUIRE(buffer);
  return (*buffer)->getBuffer().str();
}

HostTensor randomTensor(DType dtype, std::vector<int64_t> shape,
                        std::mt19937 &rng, double lo = -1.0, double hi = 1.0) {
  HostTensor t = makeTensor(dtype, std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &x : t.data)
    x = roundTo(dtype, dist(rng));
  return t;
}

/// Empty when every element of `got` is within `abs + rel * |want|` of
/// `want`; otherwise describes the first element that is not.
std::string mismatch(const HostTensor &got, const std::vector<double> &want,
                     double rel = 0.0, double abs = 0.0) {
  if (got.data.size() != want.size())
    return "size " + std::to_string(got.data.size()) + " vs " +
           std::to_string(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    double g = got.data[i], w = want[i];
    bool same = g == w || (std::isnan(g) && std::isnan(w)) ||
                std::fabs(g - w) <= abs + rel * std::fabs(w);
    if (!same) {
      std::ostringstream os;
      os.precision(10);
      os << "element " << i << ": got " << g << ", want " << w;
      return os.str();
    }
  }
  return "";
}

/// float arithmetic, as the kernels compute in f32.
double f32(double x) { return double(float(x)); }

/// op(A) (m x k) @ op(B) (k x n) in double, where op transposes a matrix
/// stored transposed (A as k x m, B as n x k).
std::vector<double> matmul(const HostTensor &a, bool transposeA,
                           const HostTensor &b, bool transposeB, int64_t m,
                           int64_t n, int64_t k) {
  std::vector<double> c(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t l = 0; l < k; ++l)
        c[i * n + j] += a.data[transposeA ? l * m + i : i * k + l] *
                        b.data[transposeB ? j * k + l : l * n + j];
  return c;
}

/// The softmax of every row of the m x n matrix `x`, in double.
std::vector<double> softmaxRows(const std::vector<double> &x, int64_t m,
                                int64_t n) {
  std::vector<double> y(m * n);
  for (int64_t i = 0; i < m; ++i) {
    const double *row = x.data() + i * n;
    double mx = *std::max_element(row, row + n), sum = 0;
    for (int64_t j = 0; j < n; ++j)
      sum += std::exp(row[j] - mx);
    for (int64_t j = 0; j < n; ++j)
      y[i * n + j] = std::exp(row[j] - mx) / sum;
  }
  return y;
}

} // namespace

//===----------------------------------------------------------------------===//
// Tile operations
//===----------------------------------------------------------------------===//

static const char *kGemm = R"(
kernel mm[BM=16, BN=16, BK=8, TA=False, TB=False](
        A: Tensor[(RA, CA), bf16], B: Tensor[(RB, CB), bf16],
        C: Tensor[(M, N), f32]):
    with Kernel(cdiv(N, BN), cdiv(M, BM), threads=128) as (bx, by):
        if TA:
            A_s = alloc_shared((BK, BM), bf16)
            nk = cdiv(RA, BK)
        else:
            A_s = alloc_shared((BM, BK), bf16)
            nk = cdiv(CA, BK)
        if TB:
            B_s = alloc_shared((BN, BK), bf16)
        else:
            B_s = alloc_shared((BK, BN), bf16)
        acc = alloc_fragment((BM, BN), f32)
        clear(acc)
        for k in range(nk):
            if TA:
                copy(A[k * BK, by * BM], A_s)
            else:
                copy(A[by * BM, k * BK], A_s)
            if TB:
                copy(B[bx * BN, k * BK], B_s)
            else:
                copy(B[k * BK, bx * BN], B_s)
            gemm(A_s, B_s, acc, transpose_A=TA, transpose_B=TB)
        copy(acc, C[by * BM, bx * BN])
)";

TEST_CASE("gemm matches a naive reference (ragged, transposed)", "[interp]") {
  auto [ta, tb] =
      GENERATE(std::make_pair(false, false), std::make_pair(true, false),
               std::make_pair(false, true), std::make_pair(true, true));
  INFO("TA=" << ta << " TB=" << tb);
  Program p(kGemm, {std::string("TA=") + (ta ? "True" : "False"),
                    std::string("TB=") + (tb ? "True" : "False")});
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 45, n = 37, k = 29;
  std::mt19937 rng(1);
  HostTensor a = randomTensor(
      DType::BF16, ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k},
      rng);
  HostTensor b = randomTensor(
      DType::BF16, tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n},
      rng);
  HostTensor c = makeTensor(DType::F32, {m, n}, -5.0);
  REQUIRE(p.run("mm", {&a, &b, &c}));
  std::vector<double> want = matmul(a, ta, b, tb, m, n, k);
  for (double &x : want)
    x = f32(x);
  CHECK(mismatch(c, want, 1e-6, 1e-6) == "");
}

TEST_CASE("gemm with clear_accum overwrites the accumulator", "[interp]") {
  Program p(R"(
kernel clr[BM=16, BN=16, BK=32](A: Tensor[(M, K), f32], B: Tensor[(K, N), f32],
                                C: Tensor[(M, N), f32]):
    with Kernel(1, threads=128) as bx:
        a = alloc_fragment((BM, BK), f32)
        b = alloc_shared((BK, BN), f32)
        acc = alloc_fragment((BM, BN), f32)
        fill(acc, 1000.0)
        copy(A[0, 0], a)
        copy(B[0, 0], b)
        gemm(a, b, acc, clear_accum=True)
        gemm(a, b, acc)
        copy(acc, C[0, 0])
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 10, n = 12, k = 20;
  std::mt19937 rng(15);
  HostTensor a = randomTensor(DType::F32, {m, k}, rng);
  HostTensor b = randomTensor(DType::F32, {k, n}, rng);
  HostTensor c = makeTensor(DType::F32, {m, n});
  REQUIRE(p.run("clr", {&a, &b, &c}));
  std::vector<double> want = matmul(a, false, b, false, m, n, k);
  for (double &x : want)
    x = f32(f32(x) + x);
  CHECK(mismatch(c, want, 1e-6, 1e-6) == "");
}

TEST_CASE("copy reads zeros past a tensor's edge and drops writes there",
          "[interp]") {
  Program p(R"(
kernel pad[BM=8, BN=8](X: Tensor[(M, N), f32], Y: Tensor[(M, N), f32],
                       P: Tensor[(PM, PN), f32]):
    with Kernel(cdiv(N, BN), cdiv(M, BM), threads=128) as (bx, by):
        t = alloc_fragment((BM, BN), f32)
        copy(X[by * BM, bx * BN], t)
        copy(t, Y[by * BM, bx * BN])
        copy(t, P[by * BM, bx * BN])

kernel whole[BN=8](X: Tensor[(N,), f32], Y: Tensor[(N,), f32]):
    with Kernel(1, threads=32) as bx:
        t = alloc_fragment((BN,), f32)
        copy(X, t)
        for i in Parallel(BN):
            t[i] = t[i] + 1.0
        copy(t, Y)
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  std::mt19937 rng(2);
  SECTION("boxes of a tiled loop") {
    const int64_t m = 10, n = 13;
    HostTensor x = randomTensor(DType::F32, {m, n}, rng);
    HostTensor y = makeTensor(DType::F32, {m, n}, 99.0);
    HostTensor padded = makeTensor(DType::F32, {16, 16}, -7.0);
    REQUIRE(p.run("pad", {&x, &y, &padded}));
    CHECK(mismatch(y, x.data) == "");
    std::vector<double> want(16 * 16);
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 16; ++j)
        want[i * 16 + j] = i < m && j < n ? x.data[i * n + j] : 0.0;
    CHECK(mismatch(padded, want) == "");
  }
  SECTION("a whole tensor meets a static tile") {
    for (int64_t n : {5, 12}) {
      INFO("N=" << n);
      HostTensor x = randomTensor(DType::F32, {n}, rng);
      HostTensor y = makeTensor(DType::F32, {n}, 42.0);
      REQUIRE(p.run("whole", {&x, &y}));
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i)
        want[i] = i < 8 ? f32(x.data[i] + 1.0) : 42.0;
      CHECK(mismatch(y, want) == "");
    }
  }
}

TEST_CASE("views with dropped dimensions of a 4-D tensor", "[interp]") {
  Program p(R"(
kernel scale_chunks[BT=64, D=128, DT=bf16, BD=D // 2](
        Q: Tensor[(B, T, H, D), DT], O: Tensor[(B, T, H, D), f32],
        Bias: Tensor[(H, 16), f32], scale: f32, n_chunks: i32):
    with Kernel(n_chunks, H, B, threads=256) as (c, h, b):
        q = alloc_fragment((BT, BD), f32)
        t0 = c * BT
        copy(Q[b, t0:t0 + BT, h, 0:BD], q)
        for i, j in Parallel(BT, BD):
            q[i, j] = q[i, j] * scale + Bias[h, j % 16]
        copy(q, O[b, t0:t0 + BT, h, 0:BD])
)",
            {"BT=16", "D=32"});
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t b = 2, t = 40, h = 3, d = 32, bd = 16;
  std::mt19937 rng(16);
  HostTensor q = randomTensor(DType::BF16, {b, t, h, d}, rng);
  HostTensor o = makeTensor(DType::F32, {b, t, h, d}, -1.0);
  HostTensor bias = randomTensor(DType::F32, {h, 16}, rng);
  const double scale = 0.3;
  REQUIRE(p.run("scale_chunks", {&q, &o, &bias, Scalar{DType::F32, scale},
                                 Scalar{DType::I32, 3}}));
  std::vector<double> want(o.data.size());
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t ti = 0; ti < t; ++ti)
      for (int64_t hi = 0; hi < h; ++hi)
        for (int64_t di = 0; di < d; ++di) {
          int64_t at = ((bi * t + ti) * h + hi) * d + di;
          want[at] = di < bd ? f32(f32(q.data[at] * f32(scale)) +
                                   bias.data[hi * 16 + di % 16])
                             : -1.0;
        }
  CHECK(mismatch(o, want) == "");
}

TEST_CASE("reduce sum, max and min, with and without clear", "[interp]") {
  Program p(R"(
kernel red[R=4, C=6](X: Tensor[(R, C), f32], SumCols: Tensor[(C,), f32],
                     SumRows: Tensor[(R,), f32], MaxRows: Tensor[(R,), f32],
                     MinCols: Tensor[(C,), f32], MinCols0: Tensor[(C,), f32],
                     Acc: Tensor[(R,), f32], Top: Tensor[(1,), f32]):
    with Kernel(1, threads=128) as bx:
        x = alloc_fragment((R, C), f32)
        copy(X, x)
        s0 = alloc_fragment((C,), f32)
        reduce_sum(x, s0, dim=0)
        copy(s0, SumCols)
        s1 = alloc_fragment((R,), f32)
        reduce_sum(x, s1, dim=-1)
        copy(s1, SumRows)
        mx = alloc_fragment((R,), f32)
        fill(mx, 0.25)
        reduce_max(x, mx, dim=1, clear=False)
        copy(mx, MaxRows)
        mn = alloc_shared((C,), f32)
        reduce_min(x, mn, dim=0)
        copy(mn, MinCols)
        mn0 = alloc_fragment((C,), f32)
        clear(mn0)
        reduce_min(x, mn0, dim=0, clear=False)
        copy(mn0, MinCols0)
        acc = alloc_fragment((R,), f32)
        copy(Acc, acc)
        reduce_sum(x, acc, dim=1, clear=False)
        copy(acc, Acc)
        top = alloc_fragment((1,), f32)
        reduce_max(s1, top, dim=0)
        copy(top, Top)
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t r = 4, c = 6;
  std::mt19937 rng(3);
  HostTensor x = randomTensor(DType::F32, {r, c}, rng);
  HostTensor sumCols = makeTensor(DType::F32, {c});
  HostTensor sumRows = makeTensor(DType::F32, {r});
  HostTensor maxRows = makeTensor(DType::F32, {r});
  HostTensor minCols = makeTensor(DType::F32, {c});
  HostTensor minCols0 = makeTensor(DType::F32, {c});
  HostTensor acc = randomTensor(DType::F32, {r}, rng);
  HostTensor top = makeTensor(DType::F32, {1});
  std::vector<double> oldAcc = acc.data;
  REQUIRE(p.run("red", {&x, &sumCols, &sumRows, &maxRows, &minCols, &minCols0,
                        &acc, &top}));
  std::vector<double> wSumCols(c, 0), wSumRows(r, 0), wMaxRows(r, 0.25),
      wMinCols(c, INFINITY), wMinCols0(c, 0), wAcc(r);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) {
      double v = x.data[i * c + j];
      wSumCols[j] += v;
      wSumRows[i] += v;
      wMaxRows[i] = std::max(wMaxRows[i], v);
      wMinCols[j] = std::min(wMinCols[j], v);
      wMinCols0[j] = std::min(wMinCols0[j], v);
    }
  for (int64_t i = 0; i < r; ++i)
    wAcc[i] = oldAcc[i] + wSumRows[i];
  CHECK(mismatch(sumCols, wSumCols, 1e-6) == "");
  CHECK(mismatch(sumRows, wSumRows, 1e-6) == "");
  CHECK(mismatch(maxRows, wMaxRows) == "");
  CHECK(mismatch(minCols, wMinCols) == "");
  CHECK(mismatch(minCols0, wMinCols0) == "");
  CHECK(mismatch(acc, wAcc, 1e-6) == "");
  CHECK(mismatch(top, {f32(*std::max_element(sumRows.data.begin(),
                                             sumRows.data.end()))}) == "");
}

TEST_CASE("cumsum forward and reverse along both dimensions", "[interp]") {
  Program p(R"(
kernel cs[R=5, C=7](X: Tensor[(R, C), f32], F0: Tensor[(R, C), f32],
                    R0: Tensor[(R, C), f32], F1: Tensor[(R, C), f32],
                    R1: Tensor[(R, C), f32]):
    with Kernel(1, threads=128) as bx:
        a = alloc_fragment((R, C), f32)
        copy(X, a)
        cumsum(a, dim=0)
        copy(a, F0)
        b = alloc_shared((R, C), f32)
        copy(X, b)
        cumsum(b, dim=0, reverse=True)
        copy(b, R0)
        c = alloc_fragment((R, C), f32)
        copy(X, c)
        cumsum(c, dim=1)
        copy(c, F1)
        d = alloc_fragment((R, C), f32)
        copy(X, d)
        cumsum(d, dim=-1, reverse=True)
        copy(d, R1)
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t r = 5, c = 7;
  std::mt19937 rng(4);
  HostTensor x = randomTensor(DType::F32, {r, c}, rng);
  HostTensor f0 = makeTensor(DType::F32, {r, c}), r0 = f0, f1 = f0, r1 = f0;
  REQUIRE(p.run("cs", {&x, &f0, &r0, &f1, &r1}));
  auto at = [&](int64_t i, int64_t j) { return x.data[i * c + j]; };
  std::vector<double> wf0(r * c), wr0(r * c), wf1(r * c), wr1(r * c);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) {
      for (int64_t k = 0; k <= i; ++k)
        wf0[i * c + j] += at(k, j);
      for (int64_t k = i; k < r; ++k)
        wr0[i * c + j] += at(k, j);
      for (int64_t k = 0; k <= j; ++k)
        wf1[i * c + j] += at(i, k);
      for (int64_t k = j; k < c; ++k)
        wr1[i * c + j] += at(i, k);
    }
  CHECK(mismatch(f0, wf0, 1e-6, 1e-7) == "");
  CHECK(mismatch(r0, wr0, 1e-6, 1e-7) == "");
  CHECK(mismatch(f1, wf1, 1e-6, 1e-7) == "");
  CHECK(mismatch(r1, wr1, 1e-6, 1e-7) == "");
}

TEST_CASE("atomic_add accumulates into a global tensor (split-K)", "[interp]") {
  Program p(R"(
kernel splitk[BM=8, BN=8, BK=4, SPLIT=3](
        A: Tensor[(M, K), f16], B: Tensor[(N, K), f16], C: Tensor[(M, N), f32]):
    with Kernel(cdiv(N, BN), cdiv(M, BM), SPLIT, threads=128) as (bx, by, bz):
        A_s = alloc_shared((BM, BK), f16)
        B_s = alloc_shared((BN, BK), f16)
        acc = alloc_fragment((BM, BN), f32)
        clear(acc)
        for k in range(bz, cdiv(K, BK), SPLIT):
            copy(A[by * BM, k * BK], A_s)
            copy(B[bx * BN, k * BK], B_s)
            gemm(A_s, B_s, acc, transpose_B=True)
        atomic_add(C[by * BM, bx * BN], acc)
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 11, n = 9, k = 15;
  std::mt19937 rng(5);
  HostTensor a = randomTensor(DType::F16, {m, k}, rng);
  HostTensor b = randomTensor(DType::F16, {n, k}, rng);
  HostTensor c = makeTensor(DType::F32, {m, n}, 1.0);
  REQUIRE(p.run("splitk", {&a, &b, &c}));
  std::vector<double> want = matmul(a, false, b, true, m, n, k);
  for (double &x : want)
    x += 1.0;
  CHECK(mismatch(c, want, 1e-5, 1e-6) == "");
}

//===----------------------------------------------------------------------===//
// Element code, control flow, dtypes
//===----------------------------------------------------------------------===//

TEST_CASE("softmax-like Parallel code with exp, where and max", "[interp]") {
  Program p(R"(
kernel sm[BM=4, BN=16](X: Tensor[(M, N), f32], Y: Tensor[(M, N), f32]):
    with Kernel(cdiv(M, BM), threads=128) as bx:
        x = alloc_fragment((BM, BN), f32)
        m = alloc_fragment((BM,), f32)
        s = alloc_fragment((BM,), f32)
        copy(X[bx * BM, 0], x)
        fill(m, -inf)
        for i, j in Parallel(BM, BN):
            x[i, j] = where(j < N, x[i, j], -inf)
        reduce_max(x, m, dim=1, clear=False)
        for i, j in Parallel(BM, BN):
            x[i, j] = where(j < N, exp(x[i, j] - max(m[i], -1e30)), 0.0)
        reduce_sum(x, s, dim=1)
        for i, j in Parallel(BM, BN):
            x[i, j] = x[i, j] / s[i]
        copy(x, Y[bx * BM, 0])
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 6, n = 11;
  std::mt19937 rng(6);
  HostTensor x = randomTensor(DType::F32, {m, n}, rng, -4, 4);
  HostTensor y = makeTensor(DType::F32, {m, n});
  REQUIRE(p.run("sm", {&x, &y}));
  std::vector<double> want = softmaxRows(x.data, m, n);
  CHECK(mismatch(y, want, 1e-5) == "");
}

TEST_CASE("variables (cells) in loops and branches", "[interp]") {
  Program p(R"(
kernel ctl(X: Tensor[(N,), f32], Out: Tensor[(4,), f32], Idx: Tensor[(3,), i32],
           n: i32, alpha: f32):
    with Kernel(1, threads=32) as bx:
        total = 0.0
        count = 0
        for i in range(n):
            total += X[i] * alpha
            count += 1
        flag = 0
        if total > 3.0:
            flag = 1
        elif total < 1.0:
            flag = 2
        else:
            flag = 3
        for j in range(1, N, 2):
            if X[j] < 0.0:
                count -= 10
        Out[0] = total
        Out[1] = count
        Out[2] = flag
        Out[3] = n / 2
        Idx[0] = cast(total, i32) + n // 2 - n % 3
        Idx[1] = cast(-total, i32)
        Idx[2] = -n // 4
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  for (double alpha : {0.5, 3.0, 0.1}) {
    INFO("alpha=" << alpha);
    HostTensor x{DType::F32, {7}, {1.5, -2.0, 0.75, 3.0, -1.0, 2.0, -0.5}};
    HostTensor out = makeTensor(DType::F32, {4});
    HostTensor idx = makeTensor(DType::I32, {3});
    const int n = 5;
    REQUIRE(p.run("ctl", {&x, &out, &idx, Scalar{DType::I32, double(n)},
                          Scalar{DType::F32, alpha}}));
    double total = 0;
    for (int i = 0; i < n; ++i)
      total = f32(total + f32(x.data[i] * f32(alpha)));
    int count = n;
    for (int j = 1; j < 7; j += 2)
      count -= x.data[j] < 0 ? 10 : 0;
    double flag = total > 3 ? 1 : total < 1 ? 2 : 3;
    CHECK(mismatch(out, {total, double(count), flag, 2.5}) == "");
    CHECK(mismatch(idx, {double(int(total) + 2 - 2), double(int(-total)),
                         -2.0}) == "");
  }
}

TEST_CASE("stores round to the dtype", "[interp]") {
  SECTION("roundTo") {
    CHECK(roundTo(DType::BF16, 1.0 + std::ldexp(1, -8)) == 1.0); // tie: even
    CHECK(roundTo(DType::BF16, 1.0 + 3 * std::ldexp(1, -8)) ==
          1.0 + std::ldexp(1, -6)); // tie: even
    CHECK(roundTo(DType::BF16, 1.0 + std::ldexp(1.1, -8)) ==
          1.0 + std::ldexp(1, -7));
    CHECK(roundTo(DType::BF16, 3.4e38) == INFINITY);
    CHECK(roundTo(DType::BF16, 1e-40) == std::ldexp(1.0, -133)); // subnormal
    CHECK(roundTo(DType::F16, 65519.0) == 65504.0);
    CHECK(roundTo(DType::F16, 65520.0) == INFINITY);
    CHECK(roundTo(DType::F16, std::ldexp(1.0, -25)) == 0.0); // tie: even
    CHECK(roundTo(DType::F16, std::ldexp(1.5, -25)) == std::ldexp(1.0, -24));
    CHECK(roundTo(DType::F32, 0.1) == double(0.1f));
    CHECK(roundTo(DType::I32, -2.7) == -2.0);
    CHECK(roundTo(DType::I32, 4294967297.0) == 1.0); // wraps
    CHECK(roundTo(DType::I8, 130.0) == -126.0);
    CHECK(roundTo(DType::Bool, 0.5) == 1.0);
    CHECK(std::isnan(roundTo(DType::BF16, NAN)));
  }
  SECTION("in a kernel") {
    Program p(R"(
kernel rnd(X: Tensor[(N,), f32], B: Tensor[(N,), bf16], H: Tensor[(N,), f16],
           I: Tensor[(N,), i32], S: Tensor[(N,), bf16], C: Tensor[(N,), bf16]):
    with Kernel(1, threads=32) as bx:
        t = alloc_fragment((4,), f32)
        copy(X[0:4], t)
        copy(t, C[0:4])
        for i in range(N):
            B[i] = X[i]
            H[i] = X[i]
            I[i] = cast(X[i], i32)
            S[i] = B[i] * 3.0
)");
    INFO(p.compileErrors);
    REQUIRE(p.module);
    std::mt19937 rng(7);
    const int64_t n = 64;
    HostTensor x = randomTensor(DType::F32, {n}, rng, -100, 100);
    x.data[0] = 1.0 + std::ldexp(1, -8);
    x.data[1] = 1.0 + 3 * std::ldexp(1, -8);
    HostTensor b = makeTensor(DType::BF16, {n}),
               h = makeTensor(DType::F16, {n});
    HostTensor i32 = makeTensor(DType::I32, {n}), s = b, c = b;
    REQUIRE(p.run("rnd", {&x, &b, &h, &i32, &s, &c}));
    std::vector<double> wb(n), wh(n), wi(n), ws(n);
    for (int64_t i = 0; i < n; ++i) {
      wb[i] = roundTo(DType::BF16, x.data[i]);
      wh[i] = roundTo(DType::F16, x.data[i]);
      wi[i] = std::trunc(x.data[i]);
      ws[i] = roundTo(DType::BF16, wb[i] * 3.0);
    }
    CHECK(b.data[0] == 1.0);
    CHECK(b.data[1] == 1.0 + std::ldexp(1, -6));
    CHECK(mismatch(b, wb) == "");
    CHECK(mismatch(h, wh) == "");
    CHECK(mismatch(i32, wi) == "");
    CHECK(mismatch(s, ws) == "");
    CHECK(std::vector<double>(c.data.begin(), c.data.begin() + 4) ==
          std::vector<double>(wb.begin(), wb.begin() + 4));
    CHECK(c.data[4] == 0.0);
  }
  SECTION("inputs are rounded to their dtype on entry") {
    Program p(R"(
kernel up(X: Tensor[(N,), bf16], Y: Tensor[(N,), f32]):
    with Kernel(1, threads=32) as bx:
        for i in range(N):
            Y[i] = X[i]
)");
    REQUIRE(p.module);
    HostTensor x{DType::BF16, {2}, {1.0 + std::ldexp(1.1, -8), 0.1}};
    HostTensor y = makeTensor(DType::F32, {2});
    REQUIRE(p.run("up", {&x, &y}));
    CHECK(mismatch(y, {1.0 + std::ldexp(1, -7), roundTo(DType::BF16, 0.1)}) ==
          "");
    CHECK(x.data == y.data);
  }
}

//===----------------------------------------------------------------------===//
// Warp specialization
//===----------------------------------------------------------------------===//

static const char *kChannels = R"(
kernel ws[BT=4, D=8, EXTRA=0](Kin: Tensor[(T, D), f32], O: Tensor[(T, D), f32]):
    with Kernel(1, threads=160) as bx:
        ring = channel((BT, D), f32, stages=2)
        with role("compute", warpgroups=1):
            acc = alloc_fragment((BT, D), f32)
            for t in range(cdiv(T, BT) + EXTRA):
                with get(ring) as k_s:
                    copy(k_s, acc)
                for i, j in Parallel(BT, D):
                    acc[i, j] = acc[i, j] * 2.0 + t
                copy(acc, O[t * BT:t * BT + BT, :])
        with role("loader", warps=1):
            for t in range(cdiv(T, BT)):
                put(ring, Kin[t * BT:t * BT + BT, :])
)";

TEST_CASE("channels are FIFO queues between roles", "[interp]") {
  Program p(kChannels);
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t t = 10, d = 8;
  std::mt19937 rng(8);
  HostTensor kin = randomTensor(DType::F32, {t, d}, rng);
  HostTensor o = makeTensor(DType::F32, {t, d});
  REQUIRE(p.run("ws", {&kin, &o}));
  std::vector<double> want(t * d);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < d; ++j)
      want[i * d + j] = f32(kin.data[i * d + j] * 2.0 + double(i / 4));
  CHECK(mismatch(o, want) == "");
}

TEST_CASE("a get that no put will feed is a deadlock error", "[interp]") {
  Program p(kChannels, {"EXTRA=1"});
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor kin = makeTensor(DType::F32, {8, 8}, 1.0);
  HostTensor o = makeTensor(DType::F32, {8, 8});
  CHECK_FALSE(p.run("ws", {&kin, &o}));
  CHECK_THAT(p.errors,
             Catch::StartsWith("test.tl:8:17: error: get on an empty "
                               "channel that no role will fill: every role "
                               "waits (the roles' puts and gets deadlock)\n"
                               "                with get(ring) as k_s:\n"
                               "                ^"));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST_CASE("arguments are checked against the parameters", "[interp]") {
  Program p(R"(
kernel k(A: Tensor[(M, K), f32], B: Tensor[(K, N), f32],
         C: Tensor[(M, 8), f32], n: i32):
    with Kernel(1, threads=32) as bx:
        pass
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor a = makeTensor(DType::F32, {4, 5});
  HostTensor b = makeTensor(DType::F32, {5, 6});
  HostTensor c = makeTensor(DType::F32, {4, 8});
  Scalar n{DType::I32, 3};
  CHECK(p.run("k", {&a, &b, &c, n}));
  CHECK(p.errors.empty());

  auto fails = [&](std::vector<KernelArg> args, const std::string &message) {
    CHECK_FALSE(p.run("k", std::move(args)));
    CHECK_THAT(p.errors,
               Catch::StartsWith("test.tl:2:1: error: kernel 'k': " + message));
  };
  fails({&a, &b, &c}, "expected 4 arguments (A, B, C, n), got 3");
  HostTensor bf = makeTensor(DType::BF16, {5, 6});
  fails({&a, &bf, &c, n},
        "argument 'B' (param 1): expected dtype f32, got bf16");
  HostTensor rank3 = makeTensor(DType::F32, {5, 6, 1});
  fails({&a, &rank3, &c, n},
        "argument 'B' (param 1): expected rank 2, got 3 (shape [5, 6, 1])");
  HostTensor b7 = makeTensor(DType::F32, {7, 6});
  fails({&a, &b7, &c, n}, "argument 'B' (param 1): dimension 0 is 'K' = 7, "
                          "but 'K' = 5 from argument 'A' dimension 1");
  HostTensor c9 = makeTensor(DType::F32, {4, 9});
  fails({&a, &b, &c9, n},
        "argument 'C' (param 2): dimension 1 must be 8, got 9 (shape [4, 9])");
  fails({&a, &b, &c, Scalar{DType::F32, 3}},
        "argument 'n' (param 3): expected a scalar i32, got a scalar f32");
  fails({&a, &b, &c, &a},
        "argument 'n' (param 3): expected a scalar i32, got a tensor of f32");
  fails({&a, n, &c, n},
        "argument 'B' (param 1): expected a tensor, got a scalar i32");
  HostTensor shortData{DType::F32, {5, 6}, {1.0, 2.0}};
  fails({&a, &shortData, &c, n},
        "argument 'B' (param 1): holds 2 values, but its shape [5, 6] has 30 "
        "elements");

  CHECK_FALSE(p.run("nope", {}));
  CHECK_THAT(p.errors, Catch::Contains("error: no kernel named 'nope' in this "
                                       "module; it defines: k"));
}

TEST_CASE("out-of-bounds accesses are reported at the source line",
          "[interp]") {
  Program p(R"(
kernel oob[BM=64](X: Tensor[(N,), f32], Y: Tensor[(N,), f32], i: i32, j: i32):
    with Kernel(1, threads=128) as bx:
        s = alloc_shared((BM, BM), f32)
        f = alloc_fragment((32, BM), f32)
        fill(s, 1.0)
        copy(s[i, 0], f)
        Y[0] = s[j, 0]
        Y[1] = X[j]
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor x = makeTensor(DType::F32, {5}, 3.0);
  HostTensor y = makeTensor(DType::F32, {5});
  auto args = [&](int i, int j) -> std::vector<KernelArg> {
    return {&x, &y, Scalar{DType::I32, double(i)},
            Scalar{DType::I32, double(j)}};
  };
  CHECK(p.run("oob", args(32, 4)));
  CHECK(mismatch(y, {1, 3, 0, 0, 0}) == "");

  CHECK_FALSE(p.run("oob", args(33, 0)));
  CHECK_THAT(p.errors,
             Catch::StartsWith("test.tl:7:14: error: view: the box [33, 65) "
                               "along dimension 0 is out of bounds of the "
                               "shared buffer 's' (64x64xf32)\n"
                               "        copy(s[i, 0], f)\n"
                               "             ^"));
  CHECK_FALSE(p.run("oob", args(-1, 0)));
  CHECK_THAT(p.errors, Catch::Contains("test.tl:7:14: error: view: the box "
                                       "[-1, 31) along dimension 0"));
  CHECK_FALSE(p.run("oob", args(0, 64)));
  CHECK_THAT(p.errors,
             Catch::StartsWith("test.tl:8:16: error: load: index [64, 0] is "
                               "out of bounds of the shared buffer 's' "
                               "(64x64xf32)"));
  CHECK_FALSE(p.run("oob", args(0, 5)));
  CHECK_THAT(p.errors,
             Catch::StartsWith("test.tl:9:16: error: load: index [5] is out "
                               "of bounds of the global tensor 'X' of shape "
                               "[5]"));
}

TEST_CASE("reading an element that was never written is an error", "[interp]") {
  Program p(R"(
kernel unwritten[MODE=0](Y: Tensor[(N,), f32]):
    with Kernel(1, threads=32) as bx:
        acc = alloc_fragment((4,), f32)
        acc[0] = 1.0
        if MODE == 0:
            copy(acc, Y[0])
        else:
            for i in Parallel(4):
                Y[i] = acc[i] * 2.0
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor y = makeTensor(DType::F32, {4});
  CHECK_FALSE(p.run("unwritten", {&y}));
  CHECK_THAT(p.errors,
             Catch::StartsWith("test.tl:7:13: error: copy: element [1] of the "
                               "fragment buffer 'acc' (4xf32) is read before "
                               "it is written"));

  Program q(p.src.text().str(), {"MODE=1"});
  REQUIRE(q.module);
  CHECK_FALSE(q.run("unwritten", {&y}));
  CHECK_THAT(q.errors,
             Catch::StartsWith("test.tl:10:24: error: load: element [1] of the "
                               "fragment buffer 'acc' (4xf32) is read before "
                               "it is written"));
  CHECK(y.data[0] == 2.0); // element 0 was written before the error
}

TEST_CASE("integer division by zero is an error", "[interp]") {
  Program p(R"(
kernel div(Y: Tensor[(N,), i32], a: i32, b: i32):
    with Kernel(1, threads=32) as bx:
        Y[0] = a // b
        Y[1] = a % b
        Y[2] = cdiv(N, b)
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor y = makeTensor(DType::I32, {3});
  CHECK(p.run("div", {&y, Scalar{DType::I32, -7}, Scalar{DType::I32, 2}}));
  CHECK(mismatch(y, {-4, 1, 2}) == "");
  CHECK_FALSE(p.run("div", {&y, Scalar{DType::I32, 7}, Scalar{DType::I32, 0}}));
  CHECK_THAT(p.errors, Catch::StartsWith("test.tl:4:18: error: floordivsi: "
                                         "integer division by zero"));
}

TEST_CASE("unsupported operations are reported before running", "[interp]") {
  mlir::DialectRegistry registry;
  registerFrontendDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(R"mlir(
func.func @k(%x: f32) attributes {tile.kernel} {
  %c1 = arith.constant 1 : index
  tile.launch grid(%c1) threads(32) {
  ^bb0(%bx: index):
    %y = math.tan %x : f32
  }
  return
}
)mlir",
                                                        &context);
  REQUIRE(module);
  std::string errors;
  llvm::raw_string_ostream os(errors);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    os << d.str();
    return mlir::success();
  });
  std::vector<KernelArg> args = {Scalar{DType::F32, 1.0}};
  CHECK(mlir::failed(runKernel(*module, "k", args)));
  CHECK(errors == "interpreter: unsupported operation 'math.tan'");
}

//===----------------------------------------------------------------------===//
// The example kernels (kernels/examples/*.tl)
//===----------------------------------------------------------------------===//

TEST_CASE("example: gemm", "[interp][examples]") {
  auto [out, outName] = GENERATE(std::make_pair(DType::F32, "f32"),
                                 std::make_pair(DType::BF16, "bf16"));
  Program p(readExample("gemm.tl"),
            {"BM=64", "BN=32", std::string("OUT=") + outName});
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 70, n = 50, k = 75;
  std::mt19937 rng(9);
  HostTensor a = randomTensor(DType::BF16, {m, k}, rng);
  HostTensor b = randomTensor(DType::BF16, {k, n}, rng);
  HostTensor c = makeTensor(out, {m, n});
  REQUIRE(p.run("gemm", {&a, &b, &c}));
  std::vector<double> want = matmul(a, false, b, false, m, n, k);
  for (double &x : want)
    x = roundTo(out, x);
  CHECK(mismatch(c, want, out == DType::F32 ? 1e-6 : 1e-2, 1e-6) == "");
}

TEST_CASE("example: axpy and silu_mul", "[interp][examples]") {
  Program p(readExample("elementwise.tl"));
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 70, n = 200;
  std::mt19937 rng(10);
  HostTensor x = randomTensor(DType::BF16, {m, n}, rng, -3, 3);
  HostTensor y = randomTensor(DType::BF16, {m, n}, rng, -3, 3);
  HostTensor out = makeTensor(DType::BF16, {m, n});
  const double alpha = 0.75;
  REQUIRE(p.run("axpy", {&x, &y, &out, Scalar{DType::F32, alpha}}));
  std::vector<double> want(m * n);
  for (int64_t i = 0; i < m * n; ++i)
    want[i] = roundTo(DType::BF16, f32(f32(alpha * x.data[i]) + y.data[i]));
  CHECK(mismatch(out, want) == "");

  REQUIRE(p.run("silu_mul", {&x, &y, &out}));
  for (int64_t i = 0; i < m * n; ++i) {
    double v = x.data[i];
    want[i] = roundTo(DType::BF16, v / (1.0 + std::exp(-v)) * y.data[i]);
  }
  CHECK(mismatch(out, want, 1e-2, 1e-6) == "");
}

TEST_CASE("example: row_sum_max", "[interp][examples]") {
  Program p(readExample("reduce.tl"));
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 70, n = 300;
  std::mt19937 rng(11);
  HostTensor x = randomTensor(DType::F32, {m, n}, rng, -5, 5);
  HostTensor sums = makeTensor(DType::F32, {m});
  HostTensor maxes = makeTensor(DType::F32, {m});
  REQUIRE(p.run("row_sum_max", {&x, &sums, &maxes}));
  std::vector<double> wantSum(m, 0), wantMax(m, -INFINITY);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      wantSum[i] += x.data[i * n + j];
      wantMax[i] = std::max(wantMax[i], x.data[i * n + j]);
    }
  CHECK(mismatch(sums, wantSum, 1e-5, 1e-5) == "");
  CHECK(mismatch(maxes, wantMax) == "");
}

TEST_CASE("example: chunk_cumsum", "[interp][examples]") {
  Program p(readExample("cumsum.tl"));
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t b = 2, t = 150, h = 11, bt = 64;
  std::mt19937 rng(12);
  HostTensor g = randomTensor(DType::F32, {b, t, h}, rng);
  HostTensor out = makeTensor(DType::F32, {b, t, h});
  REQUIRE(p.run("chunk_cumsum", {&g, &out}));
  std::vector<double> want(b * t * h);
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t hi = 0; hi < h; ++hi) {
      double sum = 0;
      for (int64_t ti = 0; ti < t; ++ti) {
        if (ti % bt == 0)
          sum = 0;
        sum += g.data[(bi * t + ti) * h + hi];
        want[(bi * t + ti) * h + hi] = sum;
      }
    }
  CHECK(mismatch(out, want, 1e-5, 1e-5) == "");
}

TEST_CASE("example: softmax", "[interp][examples]") {
  Program p(readExample("softmax.tl"));
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t m = 13, n = 300;
  std::mt19937 rng(13);
  HostTensor x = randomTensor(DType::BF16, {m, n}, rng, -4, 4);
  HostTensor y = makeTensor(DType::BF16, {m, n});
  REQUIRE(p.run("softmax", {&x, &y}));
  std::vector<double> want = softmaxRows(x.data, m, n);
  CHECK(mismatch(y, want, 1e-2, 1e-6) == "");
}

TEST_CASE("example: linear_attention", "[interp][examples]") {
  Program p(readExample("linear_attention.tl"));
  INFO(p.compileErrors);
  REQUIRE(p.module);
  // A ragged last chunk; the decay is applied between the gemms.
  const int64_t bhs = 2, t = 150, d = 64, dv = 64, chunk = 64;
  const double decay = 0.75;
  std::mt19937 rng(14);
  HostTensor q = randomTensor(DType::BF16, {bhs, t, d}, rng);
  HostTensor k = randomTensor(DType::BF16, {bhs, t, d}, rng, -0.25, 0.25);
  HostTensor v = randomTensor(DType::BF16, {bhs, t, dv}, rng);
  HostTensor o = makeTensor(DType::F32, {bhs, t, dv});
  REQUIRE(
      p.run("linear_attention", {&q, &k, &v, &o, Scalar{DType::F32, decay}}));
  auto input = [&](const HostTensor &x, int64_t width) {
    return [&x, t, width](int64_t bh, int64_t row, int64_t col) {
      return x.data[(bh * t + row) * width + col];
    };
  };
  auto bf16 = [](double x) { return roundTo(DType::BF16, x); };
  std::vector<double> want =
      test::linearAttentionReference(input(q, d), input(k, d), input(v, dv),
                                     bhs, t, d, dv, chunk, decay, bf16);
  CHECK(mismatch(o, want, 1e-2, 1e-2) == "");
}

//===----------------------------------------------------------------------===//
// Speed (not run by default: `tlc-interpreter-tests [perf]`)
//===----------------------------------------------------------------------===//

TEST_CASE("speed of a GDN-sized workload", "[.][perf]") {
  auto reps = GENERATE(8, 0);
  Program p(R"(
kernel bench[BT=64, K=128, V=128, REPS=8](
        Q: Tensor[(T, H, K), bf16], S: Tensor[(H, K, V), bf16],
        O: Tensor[(T, H, V), f32]):
    with Kernel(cdiv(T, BT), H, threads=128) as (c, h):
        q_s = alloc_shared((BT, K), bf16)
        s_s = alloc_shared((K, V), bf16)
        acc = alloc_fragment((BT, V), f32)
        copy(Q[c * BT:c * BT + BT, h, :], q_s)
        copy(S[h, :, :], s_s)
        clear(acc)
        for r in range(REPS):
            gemm(q_s, s_s, acc)
        for i, j in Parallel(BT, V):
            acc[i, j] = acc[i, j] * 0.5 + exp(acc[i, j] * 0.001)
        copy(acc, O[c * BT:c * BT + BT, h, :])
)",
            {"REPS=" + std::to_string(reps)});
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t t = 512, h = 4, k = 128, v = 128;
  std::mt19937 rng(14);
  HostTensor q = randomTensor(DType::BF16, {t, h, k}, rng);
  HostTensor s = randomTensor(DType::BF16, {h, k, v}, rng);
  HostTensor o = makeTensor(DType::F32, {t, h, v});
  auto start = std::chrono::steady_clock::now();
  REQUIRE(p.run("bench", {&q, &s, &o}));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  WARN("8 chunks x 4 heads x " << reps
                               << " gemms of 64x128 @ 128x128, plus a 64x128 "
                                  "Parallel per block: "
                               << seconds << " s");
}

namespace {

/// Runs the roles kernel and the plain kernel of a channel example
/// (X: T x 64 bf16, W1..W3: 64 x 64 bf16, Y: T x 64 f32) on the same random
/// inputs, checks that they agree and that Y matches `reference(x, w, h)`,
/// where h(a, b) is the bf16-rounded product.
template <class Reference>
void checkRolesExample(const char *file, const char *rolesKernel,
                       const char *plainKernel, int64_t t, unsigned seed,
                       Reference reference) {
  Program p(readExample(file), {"SMS=2"});
  INFO(p.compileErrors);
  REQUIRE(p.module);
  const int64_t d = 64;
  std::mt19937 rng(seed);
  HostTensor x = randomTensor(DType::BF16, {t, d}, rng);
  std::vector<HostTensor> w;
  for (int i = 0; i < 3; ++i)
    w.push_back(randomTensor(DType::BF16, {d, d}, rng, -0.25, 0.25));
  HostTensor roles = makeTensor(DType::F32, {t, d}, -5.0);
  HostTensor plain = makeTensor(DType::F32, {t, d}, -5.0);
  REQUIRE(p.run(rolesKernel, {&x, &w[0], &w[1], &w[2], &roles}));
  INFO(p.errors);
  REQUIRE(p.run(plainKernel, {&x, &w[0], &w[1], &w[2], &plain}));
  CHECK(mismatch(roles, plain.data, 1e-6, 1e-6) == "");
  auto product = [&](const std::vector<double> &a, const HostTensor &b) {
    HostTensor rounded = makeTensor(DType::BF16, {t, d});
    for (size_t i = 0; i < a.size(); ++i)
      rounded.data[i] = roundTo(DType::BF16, a[i]);
    return matmul(rounded, false, b, false, t, d, d);
  };
  CHECK(mismatch(roles, reference(x.data, w, product), 2e-2, 1e-2) == "");
}

} // namespace

TEST_CASE("roles run concurrently: ws_chain equals chain_plain", "[interp]") {
  // Stage 1 is written before the loader that feeds it: it waits for the
  // loader's first put. Both are the chain with bf16 hand-offs.
  checkRolesExample("ws_chain.tl", "ws_chain", "chain_plain", 130, 7,
                    [](const std::vector<double> &x,
                       const std::vector<HostTensor> &w, auto product) {
                      return product(product(product(x, w[0]), w[1]), w[2]);
                    });
}

TEST_CASE("roles passing data around a cycle: ws_cycle equals cycle_plain",
          "[interp]") {
  // stage1 puts into h1, then waits for `back`, which stage3 fills from
  // what stage2 made of h1: no order of whole roles could run this.
  // Y = H1 + bf16(bf16(H1) W2) W3 with H1 = X W1.
  checkRolesExample("ws_cycle.tl", "ws_cycle", "cycle_plain", 200, 11,
                    [](const std::vector<double> &x,
                       const std::vector<HostTensor> &w, auto product) {
                      std::vector<double> h1 = product(x, w[0]);
                      std::vector<double> y = product(product(h1, w[1]), w[2]);
                      for (size_t i = 0; i < y.size(); ++i)
                        y[i] += h1[i];
                      return y;
                    });
}

TEST_CASE("roles that each get before they put deadlock, and say so",
          "[interp]") {
  // Balanced (each channel has one put and one get), but both roles wait
  // first. tile-check-channels rejects this at compile time; the
  // interpreter, which runs IR without that pass, reports it as it happens.
  Program p(R"(
kernel knot(X: Tensor[(4, 8), f32], Y: Tensor[(4, 8), f32]):
    with Kernel(1, threads=64) as bx:
        a2b = channel((4, 8), f32, stages=1)
        b2a = channel((4, 8), f32, stages=1)
        with role("a", warps=1):
            with get(b2a) as s:
                copy(s, Y)
            put(a2b, X)
        with role("b", warps=1):
            with get(a2b) as s:
                copy(s, Y)
            put(b2a, X)
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor x = makeTensor(DType::F32, {4, 8}, 1.0);
  HostTensor y = makeTensor(DType::F32, {4, 8});
  CHECK_FALSE(p.run("knot", {&x, &y}));
  CHECK_THAT(p.errors, Catch::Contains("test.tl:7:13: error: get on an empty "
                                       "channel that no role will fill"));
  CHECK_THAT(p.errors, Catch::Contains("test.tl:11:13: error: get on an "
                                       "empty channel that no role will "
                                       "fill"));
}

TEST_CASE("cluster_rank numbers the blocks of a cluster, x fastest",
          "[interp]") {
  Program p(R"(
kernel ranks(R: Tensor[(GZ, GY, GX), i32]):
    with Kernel(GX, GY, GZ, threads=32, cluster=(2, 3, 2)) as (bx, by, bz):
        R[bz, by, bx] = cluster_rank()
)");
  INFO(p.compileErrors);
  REQUIRE(p.module);
  HostTensor r = makeTensor(DType::I32, {4, 6, 4}, -1.0);
  REQUIRE(p.run("ranks", {&r}));
  std::vector<double> want;
  for (int z = 0; z < 4; ++z)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 4; ++x)
        want.push_back(x % 2 + 2 * (y % 3 + 3 * (z % 2)));
  CHECK(mismatch(r, want) == "");
  HostTensor ragged = makeTensor(DType::I32, {4, 5, 4}, -1.0);
  CHECK_FALSE(p.run("ranks", {&ragged}));
  CHECK_THAT(p.errors, Catch::Contains("grid dimension y (5) is not a "
                                       "multiple of the cluster size 3"));
}
