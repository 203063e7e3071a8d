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

/// Token offsets of the case's sequences (B rows of T when dense).
inline std::vector<int64_t> sequenceOffsets(const GdnCase &c) {
  if (!c.cuSeqlens.empty())
    return {c.cuSeqlens.begin(), c.cuSeqlens.end()};
  std::vector<int64_t> cu;
  for (int64_t b = 0; b <= c.batch; ++b)
    cu.push_back(b * c.tokens);
  return cu;
}

/// o [B, T, Hv, V] and final states [N, Hv, K, V], float64, token by token:
/// S_t = e^{g_t} (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T, o_t = scale S_t^T
/// q_t.
inline void gdnReference(const GdnCase &c, const GdnInputs &in, double scale,
                         std::vector<double> &o, std::vector<double> &ht) {
  const int64_t d = c.headDim, hqk = c.hqk, hv = c.hv;
  const std::vector<int64_t> cu = sequenceOffsets(c);
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

/// Gradients of GDN's inputs, float64, in the layouts of GdnInputs (dq, dk
/// summed over each GVA group; dh0 empty without an initial state).
struct GdnGrads {
  std::vector<double> dq, dk, dv, dg, dbeta, dh0;
};

/// The adjoint of gdnReference, token by token in reverse, for the loss
/// <o, dO> + <final states, dht> (dht empty: zero). With P = S_{t-1},
/// a = e^{g_t}, b = beta_t and G the gradient of S_t (o_t's part added):
/// dv = b G^T k, dbeta = (G^T k) . (v - a P^T k), dg = a (<P, G> - b
/// (P^T k) . (G^T k)), dk = b G v - a b (P G^T k + G P^T k), and
/// dP = a (G - b k (G^T k)^T).
inline GdnGrads gdnReferenceBackward(const GdnCase &c, const GdnInputs &in,
                                     double scale,
                                     const std::vector<double> &dO,
                                     const std::vector<double> &dht) {
  const int64_t d = c.headDim, hqk = c.hqk, hv = c.hv;
  const std::vector<int64_t> cu = sequenceOffsets(c);
  const int64_t numSeqs = int64_t(cu.size()) - 1, bt = c.batch * c.tokens;
  GdnGrads gr;
  gr.dq.assign(bt * hqk * d, 0);
  gr.dk.assign(bt * hqk * d, 0);
  gr.dv.assign(bt * hv * d, 0);
  gr.dg.assign(bt * hv, 0);
  gr.dbeta.assign(bt * hv, 0);
  if (!in.h0.empty())
    gr.dh0.assign(numSeqs * hv * d * d, 0);
  std::vector<double> G(d * d), kG(d), kP(d);
  for (int64_t n = 0; n < numSeqs; ++n)
    for (int64_t h = 0; h < hv; ++h) {
      const int64_t hk = h / (hv / hqk), len = cu[n + 1] - cu[n];
      // Every state S_0 .. S_len of the sequence, forward.
      std::vector<std::vector<double>> S(len + 1, std::vector<double>(d * d));
      for (int64_t i = 0; i < d * d; ++i)
        S[0][i] = in.h0.empty() ? 0 : in.h0[(n * hv + h) * d * d + i];
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = cu[n] + s;
        const float *k = &in.k[(t * hqk + hk) * d];
        const float *v = &in.v[(t * hv + h) * d];
        double a = std::exp(double(in.g[t * hv + h])), b = in.beta[t * hv + h];
        for (int64_t j = 0; j < d; ++j) {
          double x = 0;
          for (int64_t i = 0; i < d; ++i)
            x += k[i] * S[s][i * d + j];
          kP[j] = x;
        }
        for (int64_t i = 0; i < d; ++i)
          for (int64_t j = 0; j < d; ++j)
            S[s + 1][i * d + j] =
                a * (S[s][i * d + j] - b * k[i] * kP[j]) + b * k[i] * v[j];
      }
      for (int64_t i = 0; i < d * d; ++i)
        G[i] = dht.empty() ? 0 : dht[(n * hv + h) * d * d + i];
      for (int64_t s = len - 1; s >= 0; --s) {
        const int64_t t = cu[n] + s;
        const float *q = &in.q[(t * hqk + hk) * d];
        const float *k = &in.k[(t * hqk + hk) * d];
        const float *v = &in.v[(t * hv + h) * d];
        const double *dot = &dO[(t * hv + h) * d];
        const std::vector<double> &P = S[s], &St = S[s + 1];
        double a = std::exp(double(in.g[t * hv + h])), b = in.beta[t * hv + h];
        // o_t = scale S_t^T q_t.
        for (int64_t i = 0; i < d; ++i) {
          double x = 0;
          for (int64_t j = 0; j < d; ++j) {
            x += St[i * d + j] * dot[j];
            G[i * d + j] += scale * q[i] * dot[j];
          }
          gr.dq[(t * hqk + hk) * d + i] += scale * x;
        }
        double pg = 0;
        for (int64_t j = 0; j < d; ++j) {
          double x = 0, y = 0;
          for (int64_t i = 0; i < d; ++i) {
            x += k[i] * G[i * d + j];
            y += k[i] * P[i * d + j];
          }
          kG[j] = x;
          kP[j] = y;
        }
        for (int64_t i = 0; i < d * d; ++i)
          pg += P[i] * G[i];
        double dbeta = 0, kPkG = 0;
        for (int64_t j = 0; j < d; ++j) {
          gr.dv[(t * hv + h) * d + j] = b * kG[j];
          dbeta += kG[j] * (v[j] - a * kP[j]);
          kPkG += kP[j] * kG[j];
        }
        gr.dbeta[t * hv + h] = dbeta;
        gr.dg[t * hv + h] = a * (pg - b * kPkG);
        for (int64_t i = 0; i < d; ++i) {
          double gv = 0, pkg = 0, gkp = 0;
          for (int64_t j = 0; j < d; ++j) {
            gv += G[i * d + j] * v[j];
            pkg += P[i * d + j] * kG[j];
            gkp += G[i * d + j] * kP[j];
          }
          gr.dk[(t * hqk + hk) * d + i] += b * gv - a * b * (pkg + gkp);
        }
        for (int64_t i = 0; i < d; ++i)
          for (int64_t j = 0; j < d; ++j)
            G[i * d + j] = a * (G[i * d + j] - b * k[i] * kG[j]);
      }
      if (!gr.dh0.empty())
        for (int64_t i = 0; i < d * d; ++i)
          gr.dh0[(n * hv + h) * d * d + i] = G[i];
    }
  return gr;
}

/// The gradients fed to the backward: dO for every output, and dht
/// (empty: none) where the case has an initial state, so both ends of the
/// state chain carry gradient.
struct GdnGradSeeds {
  std::vector<float> dO, dht;
};
inline GdnGradSeeds makeGdnGradSeeds(const GdnCase &c, std::mt19937_64 &rng) {
  std::normal_distribution<float> normal;
  const int64_t d = c.headDim, numSeqs = int64_t(sequenceOffsets(c).size()) - 1;
  GdnGradSeeds seeds;
  seeds.dO.resize(c.batch * c.tokens * c.hv * d);
  for (float &x : seeds.dO)
    x = normal(rng);
  if (c.initialState) {
    seeds.dht.resize(numSeqs * c.hv * d * d);
    for (float &x : seeds.dht)
      x = normal(rng);
  }
  return seeds;
}

/// Relative RMS errors of the backward's gradients (dh0 0 without h0).
struct GdnGradErrors {
  double dq = 0, dk = 0, dv = 0, dg = 0, dbeta = 0, dh0 = 0;
};

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

/// The backward's cases: section 6's plus sequences of length 1 and 65
/// under strong decay.
inline std::vector<GdnCase> gdnBackwardCases() {
  std::vector<GdnCase> cases = gdnCases();
  GdnCase c;
  c.name = "sequences of length 1 and 65, strong decay";
  c.tokens = 66;
  c.cuSeqlens = {0, 1, 66};
  c.strongDecay = true;
  cases.push_back(c);
  return cases;
}

} // namespace tlc::test

#endif // TLC_TESTS_COMMON_GDNREFERENCE_H
