// The depthwise plane loop, shared by the per-ISA files and instantiated there with that ISA's
// vector type V. Interior columns (every tap inside the input row) are computed a vector of
// outputs at a time with all kH*kW taps accumulated in a register and one store; border columns
// and other strides go through the per-element loop. Both accumulate bias first, then taps in
// (kh, kw) order. Included only by depthwise_*.cc.
//
// V provides: kWidth; Vec; set1(float); load(const float*) (kWidth consecutive floats);
// load_s2(const float*) (kWidth floats at stride 2, reading 2*kWidth); fma(a, b, c) = a*b + c;
// relu(Vec) (NaN-preserving); store(float*, Vec); kHasS2 (load_s2 usable); load_n / store_n
// (the first n < kWidth lanes only, nothing read or written past them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/conv/depthwise.h"

namespace simdcnn {
namespace dw_detail {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// a / b for a >= 0, b >= 1, skipping the (slow) division in the common b == 1 case.
inline int64_t div_pos(int64_t a, int64_t b) { return b == 1 ? a : a / b; }

// Stride 1, dilation 1, small planes (MobileNet's 28x28 down to 7x7, where a row is shorter than
// the vector loop's 4 registers and most outputs would take the per-element border path): the
// plane is copied once into a zero-padded [Hp, Wp] buffer (Wp = W + pL + pR = OW + kW - 1), and
// the convolution becomes 1-D over the flattened buffer, out[i] = bias + sum k[kh, kw] *
// xp[i + kh*Wp + kw] for i = oh*Wp + ow: every tap is one contiguous vector load, with no border
// cases; the kW - 1 columns per row past OW are computed and dropped. Same order as the other
// paths (bias, then taps in (kh, kw) order; a padded tap adds w * 0). Works on the stack: false
// when the plane does not fit kFlatFloats.
constexpr size_t kFlatFloats = 4096;

template <class V>
inline bool depthwise_plane_flat(const DwPlaneArgs& a) {
  const size_t W = a.W, H = a.H, kH = a.kH, kW = a.kW, OH = a.OH, OW = a.OW;
  const size_t Wp = OW + kW - 1, Hp = OH + kH - 1;
  const size_t vw = static_cast<size_t>(V::kWidth);
  if (a.pL + W > Wp || a.pT + H > Hp) return false;  // cannot happen for a valid geometry
  const size_t n_out = OH * Wp;
  // Vectors of taps read up to Hp*Wp + kW + vw - 3; vector stores write up to n_out + vw - 1.
  const size_t n_in = Hp * Wp + kW + vw;
  if (n_in + n_out + vw > kFlatFloats) return false;
  alignas(64) float buf[kFlatFloats];
  float* xp = buf;
  float* yp = buf + n_in;
  for (size_t r = 0; r < Hp; ++r) {
    float* row = xp + r * Wp;
    if (r < a.pT || r - a.pT >= H) {
      for (size_t c = 0; c < Wp; ++c) row[c] = 0.0f;
      continue;
    }
    const float* src = a.in + (r - a.pT) * W;
    for (size_t c = 0; c < a.pL; ++c) row[c] = 0.0f;
    for (size_t c = 0; c < W; ++c) row[a.pL + c] = src[c];
    for (size_t c = a.pL + W; c < Wp; ++c) row[c] = 0.0f;
  }
  for (size_t i = Hp * Wp; i < n_in; ++i) xp[i] = 0.0f;

  auto block = [&](size_t i, auto u_const) {
    constexpr int U = decltype(u_const)::value;
    typename V::Vec acc[U];
    for (int u = 0; u < U; ++u) acc[u] = V::set1(a.bias);
    for (size_t kh = 0; kh < kH; ++kh) {
      const float* row = xp + i + kh * Wp;
      for (size_t kw = 0; kw < kW; ++kw) {
        const typename V::Vec wv = V::set1(a.k[kh * kW + kw]);
        for (int u = 0; u < U; ++u) acc[u] = V::fma(wv, V::load(row + kw + u * vw), acc[u]);
      }
    }
    for (int u = 0; u < U; ++u) {
      if (a.relu) acc[u] = V::relu(acc[u]);
      V::store(yp + i + u * vw, acc[u]);
    }
  };
  size_t i = 0;
  for (; i + 4 * vw <= n_out; i += 4 * vw) block(i, std::integral_constant<int, 4>());
  for (; i < n_out; i += vw) block(i, std::integral_constant<int, 1>());
  for (size_t oh = 0; oh < OH; ++oh)
    for (size_t ow = 0; ow < OW; ++ow) a.out[oh * OW + ow] = yp[oh * Wp + ow];
  return true;
}

template <class V>
inline void depthwise_plane(const DwPlaneArgs& a) {
  if (a.sH == 1 && a.sW == 1 && a.dH == 1 && a.dW == 1 && a.OW <= 32 && depthwise_plane_flat<V>(a)) return;
  const int64_t H = static_cast<int64_t>(a.H), W = static_cast<int64_t>(a.W);
  const int64_t OW = static_cast<int64_t>(a.OW), sW = static_cast<int64_t>(a.sW);
  const int64_t kH = static_cast<int64_t>(a.kH), kW = static_cast<int64_t>(a.kW);
  const int64_t dH = static_cast<int64_t>(a.dH), dW = static_cast<int64_t>(a.dW);
  const int64_t pT = static_cast<int64_t>(a.pT), pL = static_cast<int64_t>(a.pL);

  // Interior: ow*sW - pL >= 0 and ow*sW - pL + (kW-1)*dW <= W-1; load_s2 also reads the odd
  // element after the last tap, so for stride 2 that one must be inside the row as well.
  int64_t ow_lo = (pL + sW - 1) / sW;
  const int64_t last = W - 1 - (kW - 1) * dW + pL - (sW == 2 ? 1 : 0);
  int64_t ow_hi = last >= 0 ? last / sW + 1 : 0;
  if (ow_hi > OW) ow_hi = OW;
  if (ow_lo > ow_hi) ow_lo = ow_hi;
  const bool vector_ok = sW == 1 || (sW == 2 && V::kHasS2);
  if (!vector_ok) ow_lo = ow_hi = 0;  // everything through the element loop

  for (int64_t oh = 0; oh < static_cast<int64_t>(a.OH); ++oh) {
    float* o = a.out + oh * OW;
    const int64_t ih0 = oh * static_cast<int64_t>(a.sH) - pT;
    // Valid kernel rows: 0 <= ih0 + kh*dH < H.
    int64_t kh_lo = ih0 >= 0 ? 0 : div_pos(-ih0 + dH - 1, dH);
    int64_t kh_hi = H - 1 - ih0 >= 0 ? div_pos(H - 1 - ih0, dH) + 1 : 0;
    if (kh_hi > kH) kh_hi = kH;
    if (kh_lo > kh_hi) kh_lo = kh_hi;

    auto element = [&](int64_t ow) {
      float acc = a.bias;
      const int64_t iw0 = ow * sW - pL;
      // Valid taps: 0 <= iw0 + kw*dW < W.
      const int64_t kw_lo = iw0 >= 0 ? 0 : div_pos(-iw0 + dW - 1, dW);
      int64_t kw_hi = W - 1 - iw0 >= 0 ? div_pos(W - 1 - iw0, dW) + 1 : 0;
      if (kw_hi > kW) kw_hi = kW;
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
        const float* row = a.in + (ih0 + kh * dH) * W + iw0;
        const float* wk = a.k + kh * kW;
        for (int64_t kw = kw_lo; kw < kw_hi; ++kw) acc += wk[kw] * row[kw * dW];
      }
      if (a.relu && acc < 0.0f) acc = 0.0f;
      o[ow] = acc;
    };
    // U*kWidth outputs from ow: U independent accumulator chains hide the FMA latency.
    auto block = [&](int64_t ow, auto u_const) {
      constexpr int U = decltype(u_const)::value;
      typename V::Vec acc[U];
      for (int u = 0; u < U; ++u) acc[u] = V::set1(a.bias);
      const int64_t iw0 = ow * sW - pL;
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
        const float* row = a.in + (ih0 + kh * dH) * W + iw0;
        const float* wk = a.k + kh * kW;
        for (int64_t kw = 0; kw < kW; ++kw) {
          const typename V::Vec wv = V::set1(wk[kw]);
          const float* r = row + kw * dW;
          if (sW == 1) {
            for (int u = 0; u < U; ++u) acc[u] = V::fma(wv, V::load(r + u * V::kWidth), acc[u]);
          } else {
            for (int u = 0; u < U; ++u) acc[u] = V::fma(wv, V::load_s2(r + 2 * u * V::kWidth), acc[u]);
          }
        }
      }
      for (int u = 0; u < U; ++u) {
        if (a.relu) acc[u] = V::relu(acc[u]);
        V::store(o + ow + u * V::kWidth, acc[u]);
      }
    };
    // The first n < kWidth outputs from ow (stride 1).
    auto partial = [&](int64_t ow, int64_t n) {
      typename V::Vec acc = V::set1(a.bias);
      const int64_t iw0 = ow - pL;
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
        const float* row = a.in + (ih0 + kh * dH) * W + iw0;
        const float* wk = a.k + kh * kW;
        for (int64_t kw = 0; kw < kW; ++kw) acc = V::fma(V::set1(wk[kw]), V::load_n(row + kw * dW, n), acc);
      }
      if (a.relu) acc = V::relu(acc);
      V::store_n(o + ow, acc, n);
    };

    int64_t ow = 0;
    for (; ow < ow_lo; ++ow) element(ow);
    for (; ow + 4 * V::kWidth <= ow_hi; ow += 4 * V::kWidth) block(ow, std::integral_constant<int, 4>());
    for (; ow + V::kWidth <= ow_hi; ow += V::kWidth) block(ow, std::integral_constant<int, 1>());
    if (ow < ow_hi) {
      if (sW == 1) {
        partial(ow, ow_hi - ow);
      } else if (ow_hi - V::kWidth >= ow_lo) {
        // Overlaps the previous vector, recomputing identical values.
        block(ow_hi - V::kWidth, std::integral_constant<int, 1>());
      } else {
        for (; ow < ow_hi; ++ow) element(ow);
      }
      ow = ow_hi;
    }
    for (; ow < OW; ++ow) element(ow);
  }
}

}  // namespace
}  // namespace dw_detail
}  // namespace simdcnn
