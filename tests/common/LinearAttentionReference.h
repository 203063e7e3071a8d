//===- LinearAttentionReference.h - Chunked linear attention in float64 -*- C++
//-*-===//
//
// What kernels/examples/linear_attention.tl computes, in float64, with its
// bf16 roundings (the masked scores and the state's shared copy). Shared by
// the interpreter (CPU, CI) and GPU tests.
//
//===----------------------------------------------------------------------===//

#ifndef TLC_TESTS_COMMON_LINEARATTENTIONREFERENCE_H
#define TLC_TESTS_COMMON_LINEARATTENTIONREFERENCE_H

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tlc::test {

/// Per (batch x head) bh and chunk c of `chunk` rows of T:
///   o_c = Q_c bf16(S) + bf16(causal(Q_c K_c^T)) V_c,
///   S <- decay S + K_c^T V_c.
/// `q(bh, row, col)` (and k, v) read the inputs; `bf16` rounds a double.
/// Returns o as a BH x T x DV row-major array.
template <class Input, class Round>
std::vector<double> linearAttentionReference(Input q, Input k, Input v,
                                             int64_t bhs, int64_t t, int64_t d,
                                             int64_t dv, int64_t chunk,
                                             double decay, Round bf16) {
  std::vector<double> o(bhs * t * dv, 0);
  for (int64_t bh = 0; bh < bhs; ++bh) {
    std::vector<double> state(d * dv, 0), shared(d * dv);
    for (int64_t c0 = 0; c0 < t; c0 += chunk) {
      int64_t c1 = std::min(t, c0 + chunk);
      for (int64_t e = 0; e < d * dv; ++e)
        shared[e] = bf16(state[e]);
      for (int64_t i = c0; i < c1; ++i) {
        double *out = &o[(bh * t + i) * dv];
        for (int64_t j = c0; j <= i; ++j) {
          double s = 0;
          for (int64_t x = 0; x < d; ++x)
            s += q(bh, i, x) * k(bh, j, x);
          double p = bf16(s);
          for (int64_t y = 0; y < dv; ++y)
            out[y] += p * v(bh, j, y);
        }
        for (int64_t x = 0; x < d; ++x)
          for (int64_t y = 0; y < dv; ++y)
            out[y] += q(bh, i, x) * shared[x * dv + y];
      }
      for (double &e : state)
        e *= decay;
      for (int64_t j = c0; j < c1; ++j)
        for (int64_t x = 0; x < d; ++x)
          for (int64_t y = 0; y < dv; ++y)
            state[x * dv + y] += k(bh, j, x) * v(bh, j, y);
    }
  }
  return o;
}

} // namespace tlc::test

#endif // TLC_TESTS_COMMON_LINEARATTENTIONREFERENCE_H
