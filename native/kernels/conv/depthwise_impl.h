// The depthwise loops (see depthwise.h), shared by the per-ISA files and instantiated there with
// that ISA's vector type V. Included only by depthwise_*.cc.
//
// V provides: kWidth; Vec; set1(float); load(const float*) (kWidth consecutive floats, unaligned);
// fma(a, b, c) = a*b + c; max(a, b), min(a, b) (b when either is NaN); store(float*, Vec);
// load_n(const float*, n), store_n(float*, Vec, n) (the first n <= kWidth lanes only; load_n zeros
// the others); load_s2(const float*) (the even elements of the 2*kWidth floats at p); load_s2_n(p, n)
// (the same from the first n floats at p only, the rest as zeros).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/act/unary.h"
#include "kernels/conv/depthwise.h"

namespace simdcnn {
namespace dw_detail {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// Columns [x0, x1) of phase column pw whose input column x*sW + pw - pL lies inside [0, W).
struct PhaseCols {
  size_t x0, x1;
};

// Copies plane `in`'s input rows of output rows [oh0, oh0 + rows) into the phase planes of xp,
// zeros outside the input. Rows are written a vector at a time: a row's zeroing may run up to a
// vector past its end, into the next row (written after it) or the zeroed slack after the planes.
template <class V>
inline void fill_band(const DwArgs& a, const DwBand& b, const PhaseCols* cols, const float* in, size_t oh0,
                      size_t rows, float* xp) {
  constexpr size_t vw = static_cast<size_t>(V::kWidth);
  const size_t plane = b.Hq * b.Wq;
  const int64_t H = static_cast<int64_t>(a.H), W = static_cast<int64_t>(a.W);
  const size_t hq = rows + b.qh;
  const typename V::Vec zero = V::set1(0.0f);
  for (size_t ph = 0; ph < a.sH; ++ph)
    for (size_t pw = 0; pw < a.sW; ++pw) {
      float* dst = xp + (ph * a.sW + pw) * plane;
      const size_t xa = cols[pw].x0, xb = cols[pw].x1;
      for (size_t y = 0; y < hq; ++y) {
        float* row = dst + y * b.Wq;
        for (size_t x = 0; x < b.Wq; x += vw) V::store(row + x, zero);
        const int64_t iy = static_cast<int64_t>((oh0 + y) * a.sH + ph) - static_cast<int64_t>(a.pT);
        if (iy < 0 || iy >= H || xa == xb) continue;
        const float* src = in + iy * W + (xa * a.sW + pw - a.pL);
        float* d = row + xa;
        const size_t len = xb - xa;
        if (a.sW == 1) {
          size_t j = 0;
          for (; j + vw <= len; j += vw) V::store(d + j, V::load(src + j));
          if (j < len) V::store_n(d + j, V::load_n(src + j, static_cast<int64_t>(len - j)), static_cast<int64_t>(len - j));
        } else if (a.sW == 2) {
          // Whole vectors while their 2*vw reads stay inside the input row (avail floats from
          // src), then masked ones: rows of 7 to 14 are most of a stride-2 layer's planes.
          const int64_t avail = W - static_cast<int64_t>(xa * 2 + pw - a.pL);
          size_t j = 0;
          for (; j + vw <= len && static_cast<int64_t>(2 * (j + vw)) <= avail; j += vw)
            V::store(d + j, V::load_s2(src + 2 * j));
          for (; j < len; j += vw)
            V::store_n(d + j, V::load_s2_n(src + 2 * j, avail - static_cast<int64_t>(2 * j)),
                       static_cast<int64_t>(std::min(vw, len - j)));
        } else {
          for (size_t j = 0; j < len; ++j) d[j] = src[j * a.sW];
        }
      }
    }
}

// Output rows [oh0, oh0 + rows) of plane `out` from the band's planes: taps[t] points at tap t's
// first input of the band, k at the plane's kH*kW weights; yp: b.rows * b.Wq + kDwSlack floats
// for narrow planes. KH, KW > 0: the kernel size, known at compile time; 0: a.kH, a.kW.
template <class V, int KH, int KW>
inline void band_rows(const DwArgs& a, const DwBand& b, const float* const* taps, const float* k, float bias_v,
                      float* yp, float* out, size_t oh0, size_t rows) {
  constexpr size_t vw = static_cast<size_t>(V::kWidth);
  const size_t n_taps = KH > 0 ? static_cast<size_t>(KH * KW) : a.kH * a.kW;
  // A fixed-size kernel's tap pointers in locals (registers), not reloaded for every vector.
  const float* local[KH > 0 ? KH * KW : 1];
  if (KH > 0) {
    for (size_t t = 0; t < n_taps; ++t) local[t] = taps[t];
    taps = local;
  }
  const typename V::Vec bias = V::set1(bias_v), lo = V::set1(a.lo), hi = V::set1(a.hi);
  auto one = [&](size_t i) {
    typename V::Vec acc = bias;
    for (size_t t = 0; t < n_taps; ++t) acc = V::fma(V::set1(k[t]), V::load(taps[t] + i), acc);
    return V::min(hi, V::max(lo, acc));
  };
  const size_t OW = a.OW;
  if (OW < vw) {
    for (size_t i = 0; i < rows * b.Wq; i += vw) V::store(yp + i, one(i));
    for (size_t r = 0; r < rows; ++r)
      V::store_n(out + (oh0 + r) * OW, V::load(yp + r * b.Wq), static_cast<int64_t>(OW));
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    float* o = out + (oh0 + r) * OW;
    const size_t i0 = r * b.Wq;
    size_t ow = 0;
    for (; ow + vw <= OW; ow += vw) V::store(o + ow, one(i0 + ow));
    if (ow < OW) V::store_n(o + ow, one(i0 + ow), static_cast<int64_t>(OW - ow));
  }
}

template <class V>
inline void depthwise_planes(const DwArgs& a, size_t t0, size_t t1, float* scratch) {
  static_assert(static_cast<size_t>(V::kWidth) <= kDwSlack, "kDwSlack covers a vector");
  const DwBand b = dw_band(a);
  const float** taps = reinterpret_cast<const float**>(scratch);
  float* xp = scratch + b.header_floats;
  float* yp = xp + b.in_floats;
  const size_t plane = b.Hq * b.Wq;
  // Past the last plane: floats the last vector of a row may read but never keeps (fill_band
  // never writes them).
  std::memset(xp + b.phases * plane, 0, (b.in_floats - b.phases * plane) * sizeof(float));
  // Tap (kh, kw): kh*dH = qh*sH + ph, kw*dW = qw*sW + pw reads phase (ph, pw) at row qh, column qw.
  for (size_t kh = 0, t = 0; kh < a.kH; ++kh)
    for (size_t kw = 0; kw < a.kW; ++kw, ++t) {
      const size_t ph = kh * a.dH % a.sH, qh = kh * a.dH / a.sH, pw = kw * a.dW % a.sW, qw = kw * a.dW / a.sW;
      taps[t] = xp + (ph * a.sW + pw) * plane + qh * b.Wq + qw;
    }
  // Per phase column pw: the columns whose input column x*sW + pw - pL lies inside [0, W).
  PhaseCols* cols = reinterpret_cast<PhaseCols*>(taps + a.kH * a.kW);
  const int64_t W = static_cast<int64_t>(a.W), sW = static_cast<int64_t>(a.sW), pL = static_cast<int64_t>(a.pL);
  for (size_t pw = 0; pw < a.sW; ++pw) {
    const int64_t p = static_cast<int64_t>(pw);
    const int64_t x0 = p >= pL ? 0 : (pL - p + sW - 1) / sW;
    const int64_t lim = W - 1 + pL - p;
    const int64_t x1 = std::min<int64_t>(lim >= 0 ? lim / sW + 1 : 0, static_cast<int64_t>(b.Wq));
    cols[pw] = PhaseCols{static_cast<size_t>(std::min(x0, x1)), static_cast<size_t>(x1)};
  }
  const size_t outC = a.C * a.mult, kk = a.kH * a.kW, OHW = a.OH * a.OW;
  for (size_t t = t0; t < t1; ++t) {
    const size_t n = t / outC, oc = t % outC;
    const float* in = a.x + (n * a.C + oc / a.mult) * a.H * a.W;
    const float* k = a.w + oc * kk;
    const float bias = a.bias ? a.bias[oc] : 0.0f;
    float* out = a.out + t * OHW;
    for (size_t oh0 = 0; oh0 < a.OH; oh0 += b.rows) {
      const size_t rows = std::min(b.rows, a.OH - oh0);
      fill_band<V>(a, b, cols, in, oh0, rows, xp);
      if (a.kH == 3 && a.kW == 3) {
        band_rows<V, 3, 3>(a, b, taps, k, bias, yp, out, oh0, rows);
      } else if (a.kH == 5 && a.kW == 5) {
        band_rows<V, 5, 5>(a, b, taps, k, bias, yp, out, oh0, rows);
      } else {
        band_rows<V, 0, 0>(a, b, taps, k, bias, yp, out, oh0, rows);
      }
    }
    apply_act(a.act, a.act_alpha, a.act_beta, out, OHW);
  }
}

}  // namespace
}  // namespace dw_detail
}  // namespace simdcnn
