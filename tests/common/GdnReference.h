//===- GdnReference.h - Token-by-token GDN in float64, and test cases -*- C++
//-*-===//
//
// The reference of ../shared/brief/gdn.md section 1, run token by token in
// float64, and the input recipe of the GDN tests. Shared by the interpreter
// (CPU, CI) and GPU tests so both hold the kernels to the same bar.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_TESTS_COMMON_GDNREFERENCE_H
#define TLC_TESTS_COMMON_GDNREFERENCE_H

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tlc::test {

struct GdnCase {
  std::string name;
  int64_t batch = 1, tokens = 0, hqk = 1, hv = 1, headDim = 64;
  std::vector<int32_t> cuSeqlens; // empty: dense batch
  bool initialState = true;
  bool normalizeQK = true;
  /// Value heads whose gate is 0 (no decay), and a gate scale: gates are
  /// logsigmoid(randn) / 16 * gateScale, or about -10 when strongDecay.
  std::vector<int64_t> zeroGateHeads;
  bool strongDecay = false;
  /// ForwardOptions::segmentChunks: > 0 forces context parallelism, < 0
  /// forbids it, 0 lets the device decide.
  int64_t segmentChunks = 0;
};

/// Inputs as float values (the caller rounds them to the kernel's dtype).
struct GdnInputs {
  std::vector<float> q, k, v, g, beta, h0;
  int64_t numSeqs() const { return int64_t(h0.size()); }
};

inline GdnInputs makeGdnInputs(const GdnCase &c, std::mt19937_64 &rng) {
  std::normal_distribution<float> normal;
  const int64_t bt = c.batch * c.tokens, d = c.headDim;
  GdnInputs in;
  auto fill = [&](std::vector<float> &x, int64_t n) {
    x.resize(n);
    for (float &e : x)
      e = normal(rng);
  };
  fill(in.q, bt * c.hqk * d);
  fill(in.k, bt * c.hqk * d);
  fill(in.v, bt * c.hv * d);
  // L2-normalised rows (production), or rows scaled by 1/sqrt(d) whose norms
  // vary around 1 ("unnormalised": the kernels must not assume |k| = 1).
  for (auto *x : {&in.q, &in.k})
    for (int64_t r = 0; r < bt * c.hqk; ++r) {
      double norm = 1e-6;
      for (int64_t i = 0; i < d; ++i)
        norm += double((*x)[r * d + i]) * (*x)[r * d + i];
      double factor =
          c.normalizeQK ? 1 / std::sqrt(norm) : 1 / std::sqrt(double(d));
      for (int64_t i = 0; i < d; ++i)
        (*x)[r * d + i] = float((*x)[r * d + i] * factor);
    }
  in.g.resize(bt * c.hv);
  in.beta.resize(bt * c.hv);
  for (int64_t i = 0; i < bt * c.hv; ++i) {
    float x = normal(rng);
    float logsig =
        x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
    in.g[i] = c.strongDecay ? -10.f + 0.5f * normal(rng) : logsig / 16;
    for (int64_t h : c.zeroGateHeads)
      if (i % c.hv == h)
        in.g[i] = 0;
    in.beta[i] = 1.f / (1.f + std::exp(-normal(rng)));
  }
  int64_t numSeqs =
      c.cuSeqlens.empty() ? c.batch : int64_t(c.cuSeqlens.size()) - 1;
  if (c.initialState)
    fill(in.h0, numSeqs * c.hv * d * d);
  return in;
}

/// o [B, T, Hv, V] and final states [N, Hv, K, V], float64, token by token:
/// S_t = e^{g_t} (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T, o_t = scale S_t^T
/// q_t.
inline void gdnReference(const GdnCase &c, const GdnInputs &in, double scale,
                         std::vector<double> &o, std::vector<double> &ht) {
  const int64_t d = c.headDim, hqk = c.hqk, hv = c.hv;
  std::vector<int64_t> cu;
  if (c.cuSeqlens.empty())
    for (int64_t b = 0; b <= c.batch; ++b)
      cu.push_back(b * c.tokens);
  else
    cu.assign(c.cuSeqlens.begin(), c.cuSeqlens.end());
  const int64_t numSeqs = int64_t(cu.size()) - 1;
  o.assign(c.batch * c.tokens * hv * d, 0);
  ht.assign(numSeqs * hv * d * d, 0);
  std::vector<double> S(d * d), kS(d);
  for (int64_t n = 0; n < numSeqs; ++n)
    for (int64_t h = 0; h < hv; ++h) {
      const int64_t hk = h / (hv / hqk);
      for (int64_t i = 0; i < d * d; ++i)
        S[i] = in.h0.empty() ? 0 : in.h0[(n * hv + h) * d * d + i];
      for (int64_t t = cu[n]; t < cu[n + 1]; ++t) {
        const float *q = &in.q[(t * hqk + hk) * d];
        const float *k = &in.k[(t * hqk + hk) * d];
        const float *v = &in.v[(t * hv + h) * d];
        double decay = std::exp(double(in.g[t * hv + h]));
        double b = in.beta[t * hv + h];
        // kS = k^T S (a row over V).
        for (int64_t j = 0; j < d; ++j) {
          double s = 0;
          for (int64_t i = 0; i < d; ++i)
            s += k[i] * S[i * d + j];
          kS[j] = s;
        }
        for (int64_t i = 0; i < d; ++i)
          for (int64_t j = 0; j < d; ++j)
            S[i * d + j] =
                decay * (S[i * d + j] - b * k[i] * kS[j]) + b * k[i] * v[j];
        for (int64_t j = 0; j < d; ++j) {
          double s = 0;
          for (int64_t i = 0; i < d; ++i)
            s += S[i * d + j] * q[i];
          o[(t * hv + h) * d + j] = scale * s;
        }
      }
      for (int64_t i = 0; i < d * d; ++i)
        ht[(n * hv + h) * d * d + i] = S[i];
    }
}

/// The cases of gdn.md section 6 (small enough for the interpreter).
inline std::vector<GdnCase> gdnCases() {
  std::vector<GdnCase> cases;
  GdnCase c;
  c = {};
  c.name = "T not a multiple of 64, K=V=64";
  c.tokens = 100;
  c.hqk = 1;
  c.hv = 2;
  c.headDim = 64;
  cases.push_back(c);
  c = {};
  c.name = "varlen 1, 37, 64, 130; GVA 2; K=V=64";
  c.tokens = 232;
  c.cuSeqlens = {0, 1, 38, 102, 232};
  c.hqk = 1;
  c.hv = 2;
  c.headDim = 64;
  cases.push_back(c);
  c = {};
  c.name = "GVA 4, a head with g = 0, no initial state, K=V=128";
  c.tokens = 70;
  c.hqk = 1;
  c.hv = 4;
  c.headDim = 128;
  c.initialState = false;
  c.zeroGateHeads = {2};
  cases.push_back(c);
  c = {};
  c.name = "strong decay (g about -10), dense batch of 2, GVA 1";
  c.batch = 2;
  c.tokens = 65;
  c.hqk = 2;
  c.hv = 2;
  c.headDim = 64;
  c.strongDecay = true;
  cases.push_back(c);
  c = {};
  c.name = "unnormalised keys, K=V=128";
  c.tokens = 64;
  c.hqk = 1;
  c.hv = 1;
  c.headDim = 128;
  c.normalizeQK = false;
  cases.push_back(c);
  // Context parallelism: sequences of 4 and 5 chunks cut into segments of
  // 2 (the last one shorter), a sequence too short to cut, an initial
  // state carried through the scan and a head whose gate never decays.
  c = {};
  c.name = "context parallel: varlen 1, 200, 300 in 2-chunk segments, h0";
  c.tokens = 501;
  c.cuSeqlens = {0, 1, 201, 501};
  c.hqk = 1;
  c.hv = 2;
  c.headDim = 64;
  c.zeroGateHeads = {1};
  c.segmentChunks = 2;
  cases.push_back(c);
  c = {};
  c.name = "context parallel: 1-chunk segments, unnormalised keys, K=V=128";
  c.tokens = 200;
  c.hqk = 1;
  c.hv = 1;
  c.headDim = 128;
  c.initialState = false;
  c.normalizeQK = false;
  c.segmentChunks = 1;
  cases.push_back(c);
  return cases;
}

} // namespace tlc::test

#endif // TLC_TESTS_COMMON_GDNREFERENCE_H
