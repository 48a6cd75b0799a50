// The activation algorithms, written once over a Vec (kernels/elementwise/vec.h) and instantiated
// by unary_scalar.cc / unary_avx2.cc / unary_avx512.cc.
#pragma once
#include "kernels/act/unary.h"
#include "kernels/elementwise/vec.h"

namespace simdcnn {
namespace unary_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

template <class Vec, class F>
inline void map(const float* x, float* y, size_t n, F f) {
  constexpr size_t W = Vec::W;
  size_t i = 0;
  // Two vectors per step: the long activations (GELU's erfc, tanh's exp and division) are one
  // dependency chain each, and two independent chains fill the FMA units better (four spill
  // registers). Both loads come before the stores (y may be x itself).
  for (; i + 2 * W <= n; i += 2 * W) {
    const auto v0 = Vec::load(x + i), v1 = Vec::load(x + i + W);
    const auto r0 = f(v0), r1 = f(v1);
    Vec::store(y + i, r0);
    Vec::store(y + i + W, r1);
  }
  for (; i + W <= n; i += W) Vec::store(y + i, f(Vec::load(x + i)));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    Vec::store_n(y + i, f(Vec::load_n(x + i, rem)), rem);
  }
}

// 1 / (1 + exp(-x)) with -x clamped to [-104, 89]: below x = -88.72 exp overflows to +inf and the
// quotient is 0 (so silu(-inf) = -inf * 0 = NaN, as PyTorch's), above x = 103 it is exactly 1. One
// exp and one division, no branch on the sign: for x < 0 the quotient's error is exp's (~2 ulp in
// all), as with e / (1 + e). Measured on Zen 5 (AVX-512): 0.32 -> 0.19 ns per element.
template <class Vec>
inline typename Vec::V sigmoid(typename Vec::V x) {
  const auto a = Vec::min(Vec::set1(89.0f), Vec::max(Vec::set1(-104.0f), Vec::neg(x)));
  return Vec::div(Vec::set1(1.0f), Vec::add(Vec::set1(1.0f), vec::exp_clamped<Vec>(a)));
}

// x * sigmoid(x) as x / (1 + exp(-x)): one rounding fewer than the product, and the same limits
// (x < -88.72: x / inf = -0; x = -inf: NaN, as PyTorch's -inf * 0).
template <class Vec>
inline typename Vec::V silu(typename Vec::V x) {
  const auto a = Vec::min(Vec::set1(89.0f), Vec::max(Vec::set1(-104.0f), Vec::neg(x)));
  return Vec::div(x, Vec::add(Vec::set1(1.0f), vec::exp_clamped<Vec>(a)));
}

// Cephes' tanhf: an odd polynomial below |x| = 0.625 (where 1 - 2/(e^2x + 1) would cancel),
// (1 - e^-2|x|) / (1 + e^-2|x|) with x's sign above.
template <class Vec>
inline typename Vec::V tanh(typename Vec::V x) {
  const auto a = Vec::abs(x);
  const auto z = Vec::mul(x, x);
  auto p = Vec::set1(-5.70498872745e-3f);
  p = Vec::fmadd(p, z, Vec::set1(2.06390887954e-2f));
  p = Vec::fmadd(p, z, Vec::set1(-5.37397155531e-2f));
  p = Vec::fmadd(p, z, Vec::set1(1.33314422036e-1f));
  p = Vec::fmadd(p, z, Vec::set1(-3.33332819422e-1f));
  const auto small = Vec::fmadd(Vec::mul(p, z), x, x);
  const auto t = vec::exp_nonpos<Vec>(Vec::mul(Vec::set1(-2.0f), a));
  const auto large = Vec::copysign(
      Vec::div(Vec::sub(Vec::set1(1.0f), t), Vec::add(Vec::set1(1.0f), t)), x);
  return Vec::select_lt(a, Vec::set1(0.625f), small, large);
}

// erfc(|x|) from Numerical Recipes' Chebyshev fit: t = 1 / (1 + |x|/2), t * exp(-x^2 + P(t)), with
// fractional error < 1.2e-7 for every |x| (erfc(0) = 1: P(1) = 3e-8, clamped to 0 with the
// exponent). NaN propagates.
template <class Vec>
inline typename Vec::V erfc_abs(typename Vec::V x) {
  using V = typename Vec::V;
  const V a = Vec::abs(x);
  const V z = Vec::mul(x, x);
  const V t = Vec::div(Vec::set1(1.0f), Vec::fmadd(Vec::set1(0.5f), a, Vec::set1(1.0f)));
  static const float kErfc[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  V q = Vec::set1(kErfc[0]);
  for (int i = 1; i < 10; ++i) q = Vec::fmadd(q, t, Vec::set1(kErfc[i]));
  // min(0, arg) returns arg when it is NaN.
  const V arg = Vec::min(Vec::zero(), Vec::sub(q, z));
  return Vec::mul(t, vec::exp_nonpos<Vec>(arg));
}

// erf = the odd Taylor series to x^21 below |x| = 1 (relative error ~1e-8, no cancellation near
// 0), 1 - erfc above (erfc(1) = 0.16 shrinks erfc's error to ~2e-8 of erf).
template <class Vec>
inline typename Vec::V erf(typename Vec::V x) {
  using V = typename Vec::V;
  const V z = Vec::mul(x, x);
  static const float kTaylor[] = {1.4807192816e-08f, -1.6365844691e-07f, 1.6462114366e-06f, -1.4925650358e-05f,
                                  1.2055332982e-04f, -8.5483270235e-04f, 5.2239776254e-03f, -2.6866170645e-02f,
                                  1.1283791671e-01f, -3.7612638903e-01f, 1.1283791671e+00f};
  V p = Vec::set1(kTaylor[0]);
  for (int i = 1; i < 11; ++i) p = Vec::fmadd(p, z, Vec::set1(kTaylor[i]));
  const V taylor = Vec::mul(p, x);
  const V large = Vec::copysign(Vec::sub(Vec::set1(1.0f), erfc_abs<Vec>(x)), x);
  // NaN compares false: it takes the large branch, where it propagates. Large |x| saturate there
  // (exp's argument clamps, erfc underflows to 0).
  return Vec::select_lt(Vec::abs(x), Vec::set1(1.0f), taylor, large);
}

// GELU, x/2 * (1 + erf(x / sqrt 2)), with 1 + erf(t) = erfc(|t|) for t < 0 (no cancellation in the
// small negative tail: relative accuracy is erfc's) and 2 - erfc(t) for t >= 0, where erfc <= 1
// keeps its error below 1.2e-7 of the factor (>= 1). One branch for every x, unlike erf, which
// needs the Taylor series near 0 for its own relative accuracy: with map's two vectors per step,
// 0.59 -> 0.51 ns per element on Zen 5 (AVX-512).
template <class Vec>
inline typename Vec::V gelu(typename Vec::V x) {
  using V = typename Vec::V;
  const V t = Vec::mul(x, Vec::set1(0.70710678118654752f));
  const V erfc = erfc_abs<Vec>(t);
  const V factor = Vec::select_lt(t, Vec::zero(), erfc, Vec::sub(Vec::set1(2.0f), erfc));
  return Vec::mul(Vec::mul(Vec::set1(0.5f), x), factor);
}

template <class Vec>
void unary_range(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta) {
  using V = typename Vec::V;
  switch (kind) {
    case UnaryKind::kRelu: {
      const V zero = Vec::zero();
      // max(0, v) returns v when v is NaN: relu(NaN) = NaN as in PyTorch.
      map<Vec>(x, y, n, [&](V v) { return Vec::max(zero, v); });
      break;
    }
    case UnaryKind::kLeakyRelu: {
      const V a = Vec::set1(alpha);
      map<Vec>(x, y, n, [&](V v) { return Vec::select_gt0(v, v, Vec::mul(v, a)); });
      break;
    }
    case UnaryKind::kSigmoid:
      map<Vec>(x, y, n, [](V v) { return sigmoid<Vec>(v); });
      break;
    case UnaryKind::kTanh:
      map<Vec>(x, y, n, [](V v) { return tanh<Vec>(v); });
      break;
    // Vec::max(c, v) and Vec::min(c, v) return v when v is NaN: the clamps below propagate NaN.
    case UnaryKind::kClip: {
      const V lo = Vec::set1(alpha), hi = Vec::set1(beta);
      map<Vec>(x, y, n, [&](V v) { return Vec::min(hi, Vec::max(lo, v)); });
      break;
    }
    case UnaryKind::kSilu:
      map<Vec>(x, y, n, [](V v) { return silu<Vec>(v); });
      break;
    case UnaryKind::kHardSigmoid: {
      const V a = Vec::set1(alpha), b = Vec::set1(beta), zero = Vec::zero(), one = Vec::set1(1.0f);
      map<Vec>(x, y, n, [&](V v) { return Vec::min(one, Vec::max(zero, Vec::fmadd_once(a, v, b))); });
      break;
    }
    case UnaryKind::kSqrt:
      map<Vec>(x, y, n, [](V v) { return Vec::sqrt(v); });
      break;
    case UnaryKind::kErf:
      map<Vec>(x, y, n, [](V v) { return erf<Vec>(v); });
      break;
    case UnaryKind::kGelu:
      map<Vec>(x, y, n, [](V v) { return gelu<Vec>(v); });
      break;
    case UnaryKind::kHardSwish: {
      // PyTorch's form x * clamp(x + 3, 0, 6) / 6: x + 3 is exact near the kink at -3 (Sterbenz), where
      // x * (1/6) + 1/2 would cancel and lose the small outputs' relative accuracy.
      const V three = Vec::set1(3.0f), six = Vec::set1(6.0f), zero = Vec::zero();
      map<Vec>(x, y, n, [&](V v) {
        return Vec::div(Vec::mul(v, Vec::min(six, Vec::max(zero, Vec::add(v, three)))), six);
      });
      break;
    }
  }
}

}  // namespace
}  // namespace unary_impl
}  // namespace simdcnn
