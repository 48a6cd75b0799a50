// conv_weight_dot written once over a Vec; instantiated by conv_weight_dot_<isa>.cc.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/conv/conv_weight_dot.h"
#include "kernels/elementwise/vec.h"

namespace simdcnn {
namespace weight_dot_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

template <class Vec>
float hsum(typename Vec::V v) {
  float t[Vec::W];
  Vec::store(t, v);
  float s = 0.0f;
  for (int i = 0; i < Vec::W; ++i) s += t[i];
  return s;
}

// R rows of dy x T taps: R*T accumulators over the n pixels, the tail as a masked load.
template <class Vec, int R, int T>
void block(const float* dy, size_t n, const float* const* x, float* dw, size_t ld_dw, bool accumulate) {
  using V = typename Vec::V;
  constexpr size_t W = static_cast<size_t>(Vec::W);
  V acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = Vec::zero();
  size_t j = 0;
  for (; j + W <= n; j += W) {
    V xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Vec::load(x[t] + j);
    for (int r = 0; r < R; ++r) {
      const V d = Vec::load(dy + r * n + j);
      for (int t = 0; t < T; ++t) acc[r][t] = Vec::fmadd(d, xv[t], acc[r][t]);
    }
  }
  if (j < n) {
    const int rem = static_cast<int>(n - j);
    V xv[T];
    for (int t = 0; t < T; ++t) xv[t] = Vec::load_n(x[t] + j, rem);
    for (int r = 0; r < R; ++r) {
      const V d = Vec::load_n(dy + r * n + j, rem);
      for (int t = 0; t < T; ++t) acc[r][t] = Vec::fmadd(d, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const float s = hsum<Vec>(acc[r][t]);
      float* c = dw + r * ld_dw + t;
      *c = accumulate ? *c + s : s;
    }
}

// R rows of dy (starting at row m) against every tap: blocks of 4 taps, then the rest one by one.
template <class Vec, int R>
void rows(const float* dy, size_t m, const float* xp, const int64_t* offs, size_t K, size_t n, float* dw,
          size_t ld_dw, bool accumulate) {
  size_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const float* x[4] = {xp + offs[k], xp + offs[k + 1], xp + offs[k + 2], xp + offs[k + 3]};
    block<Vec, R, 4>(dy + m * n, n, x, dw + m * ld_dw + k, ld_dw, accumulate);
  }
  for (; k < K; ++k) {
    const float* x[1] = {xp + offs[k]};
    block<Vec, R, 1>(dy + m * n, n, x, dw + m * ld_dw + k, ld_dw, accumulate);
  }
}

template <class Vec>
void weight_dot(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n, float* dw,
                size_t ld_dw, bool accumulate) {
  size_t m = 0;
  for (; m + 2 <= M; m += 2) rows<Vec, 2>(dy, m, xp, offs, K, n, dw, ld_dw, accumulate);
  for (; m < M; ++m) rows<Vec, 1>(dy, m, xp, offs, K, n, dw, ld_dw, accumulate);
}

}  // namespace
}  // namespace weight_dot_impl
}  // namespace simdcnn
