// The depthwise loops (see depthwise.h), shared by the per-ISA files and instantiated there with
// that ISA's vector type V. Included only by depthwise_*.cc.
//
// V provides: kWidth; Vec; set1(float); load(const float*) (kWidth consecutive floats, unaligned);
// fma(a, b, c) = a*b + c; max(a, b), min(a, b) (b when either is NaN); store(float*, Vec);
// load_n(const float*, n), store_n(float*, Vec, n) (the first n <= kWidth lanes only; load_n zeros
// the others); load_s2(const float*) (the even elements of the 2*kWidth floats at p); load_s2_n(p, n)
// (the same from the first n floats at p only, the rest as zeros).
// ISAs of at least 8 lanes also provide, for the direct path: M, mask(lo, hi) (lanes [lo, hi) of
// one vector, clamped), load_m(p, M) (those lanes of the kWidth floats at p, zeros elsewhere);
// M2, mask2(lo, hi) (source elements [lo, hi) of 2*kWidth, clamped), load_s2_m(p, M2) (the even
// elements of those 2*kWidth floats at p, zeros elsewhere). Masked loads touch nothing outside
// their lanes.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

// Stride S = 1 or 2 in both directions, no dilation (every depthwise layer of the torchvision
// zoo): output rows straight from the input rows, no band copy. A vector of outputs reads each tap
// as one load (S = 1) or the even elements of two (S = 2), masked where its columns leave the
// input (zeros there) and past the row's end. R output rows are computed together: input row j
// of the block feeds output rows r with kh = j - S*r in [0, kH), so each input vector is loaded
// once for up to kH/S rows, and the R accumulators are independent FMA chains (one chain per
// vector would wait on the FMA latency at every tap). Rows outside the input are zeros that are
// still multiplied in, and each output still takes bias, then (kh, kw) in increasing order, one
// FMA per tap: the same bits as the band path.
template <class V>
constexpr bool dw_direct_isa() {
  return V::kWidth >= 8;
}

constexpr size_t kDwDirectMaxChunks = 16;  // output vectors per row
constexpr size_t kDwDirectMaxKw = 8;
constexpr int kDwDirectRows = 8;      // output rows per block
constexpr int kDwDirectRowsWide = 4;  // on 16-register ISAs when a row is several chunks

inline bool dw_direct_fits(const DwArgs& a, size_t vw) {
  return (a.sW == 1 || a.sW == 2) && a.sH == a.sW && a.dH == 1 && a.dW == 1 && a.kW <= kDwDirectMaxKw &&
         a.OW <= kDwDirectMaxChunks * vw;
}

// p + d floats through an integer: a masked load may start before the row (its first lanes off).
inline const float* dw_shift(const float* p, int64_t d) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(d * 4));
}

template <class V, int S>
struct DwDirectMasks {
  using M = std::conditional_t<S == 1, typename V::M, typename V::M2>;
  M m[kDwDirectMaxChunks][kDwDirectMaxKw];
  bool full[kDwDirectMaxChunks];  // every tap's load of the chunk lies inside the row: no mask
  int64_t off[kDwDirectMaxKw];    // tap column kw's first input column, relative to S*(chunk start)
};

template <class V, int S, bool Full>
inline typename V::Vec dw_tap_load(const float* p, const typename DwDirectMasks<V, S>::M& m) {
  if constexpr (Full)
    return S == 1 ? V::load(p) : V::load_s2(p);
  else if constexpr (S == 1)
    return V::load_m(p, m);
  else
    return V::load_s2_m(p, m);
}

// Input vector v (block input row j, tap column kw) into the R row accumulators it reaches
// (kh = j - S*r): the one order, bias then (kh, kw) increasing, that every depthwise path keeps.
template <class V, int S, int KH, int KW, int R>
inline void dw_tap_rows(typename V::Vec* acc, typename V::Vec v, int j, int kw, int kH, int kW,
                        const typename V::Vec* wv, const float* k) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const int kh = j - S * r;
    if (kh < 0 || kh >= kH) continue;
    const typename V::Vec w = KH > 0 ? wv[kh * KW + kw] : V::set1(k[kh * kW + kw]);
    acc[r] = V::fma(w, v, acc[r]);
  }
}

// Output rows [oh0, oh0 + R) of one plane. KH, KW > 0: the kernel size at compile time (weights
// in registers); 0: a.kH, a.kW.
template <class V, int S, int KH, int KW, int R>
inline void direct_rows(const DwArgs& a, const DwDirectMasks<V, S>& mk, size_t chunks, const float* in,
                        const typename V::Vec* wv, const float* k, typename V::Vec bias, float* out, size_t oh0) {
  using Vec = typename V::Vec;
  constexpr int64_t vw = V::kWidth;
  const int kH = KH > 0 ? KH : static_cast<int>(a.kH), kW = KH > 0 ? KW : static_cast<int>(a.kW);
  const int64_t H = static_cast<int64_t>(a.H), W = static_cast<int64_t>(a.W), OW = static_cast<int64_t>(a.OW);
  const Vec zero = V::set1(0.0f), lo = V::set1(a.lo), hi = V::set1(a.hi);
  const int rows_in = S * (R - 1) + kH;
  for (size_t c = 0; c < chunks; ++c) {
    Vec acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = bias;
    // Fully unrolled for a fixed kernel: the row and tap tests fold away and the weights stay in
    // registers. Full chunks take plain loads, the others masked ones.
    auto taps = [&](auto full) {
#pragma GCC unroll 32
      for (int j = 0; j < rows_in; ++j) {
        const int64_t iy = static_cast<int64_t>(oh0) * S + j - static_cast<int64_t>(a.pT);
        const bool inside = iy >= 0 && iy < H;
        const float* row = in + (inside ? iy : 0) * W + S * vw * static_cast<int64_t>(c);
#pragma GCC unroll 8
        for (int kw = 0; kw < kW; ++kw) {
          Vec v = zero;
          if (inside) v = dw_tap_load<V, S, decltype(full)::value>(dw_shift(row, mk.off[kw]), mk.m[c][kw]);
          dw_tap_rows<V, S, KH, KW, R>(acc, v, j, kw, kH, kW, wv, k);
        }
      }
    };
    if (mk.full[c])
      taps(std::true_type{});
    else
      taps(std::false_type{});
    const int64_t n = std::min<int64_t>(vw, OW - vw * static_cast<int64_t>(c));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* o = out + (oh0 + static_cast<size_t>(r)) * a.OW + vw * static_cast<int64_t>(c);
      const Vec y = V::min(hi, V::max(lo, acc[r]));
      if (n == vw)
        V::store(o, y);
      else
        V::store_n(o, y, n);
    }
  }
}

// Planes whose input rows fit in one vector (W <= kWidth and OW <= kWidth: the 14- and 7-wide
// maps of the mobile nets on AVX-512), on ISAs that provide
// P, perm(S, off, W, n) (lane i <- input column S*i + off when that lies in [0, W) and i < n, else
// 0) and permute(v, P): each input row is one masked load, and tap column kw is a permute of it,
// instead of kW masked loads (at S = 2, 2 kW loads and kW two-source permutes) each with its masks
// fetched (AVX-512: 5x5/2 14->7 1.67x, 14x14 planes 1.1x). At stride 2, rows of up to two vectors
// (28 -> 14) likewise: two loads per row, taps as two-source permutes (permute2). The values
// multiplied in are the same, so are the bits. (AVX2's version, for its 7-wide rows, measured
// 0.92x: it has none.)
template <class V, class = void>
struct DwRowPermute : std::false_type {};
template <class V>
struct DwRowPermute<V, std::void_t<typename V::P>> : std::true_type {};

template <class V>
struct DwNarrow {
  typename V::P p[kDwDirectMaxKw];  // tap column kw from the row vector(s)
  typename V::M row, row_hi;        // the row's W floats: [0, kWidth) and [kWidth, 2 kWidth)
};

template <class V, int S, int KH, int KW, int R, bool Two>
inline void narrow_rows(const DwArgs& a, const DwNarrow<V>& nm, const float* in, const typename V::Vec* wv,
                        const float* k, typename V::Vec bias, float* out, size_t oh0) {
  using Vec = typename V::Vec;
  constexpr int64_t vw = V::kWidth;
  const int kH = KH > 0 ? KH : static_cast<int>(a.kH), kW = KH > 0 ? KW : static_cast<int>(a.kW);
  const int64_t H = static_cast<int64_t>(a.H), W = static_cast<int64_t>(a.W);
  const Vec zero = V::set1(0.0f), lo = V::set1(a.lo), hi = V::set1(a.hi);
  const int rows_in = S * (R - 1) + kH;
  Vec acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = bias;
#pragma GCC unroll 32
  for (int j = 0; j < rows_in; ++j) {
    const int64_t iy = static_cast<int64_t>(oh0) * S + j - static_cast<int64_t>(a.pT);
    const bool inside = iy >= 0 && iy < H;
    const Vec row = inside ? V::load_m(in + iy * W, nm.row) : zero;
    Vec row_hi = zero;
    if constexpr (Two) row_hi = inside ? V::load_m(in + iy * W + vw, nm.row_hi) : zero;
#pragma GCC unroll 8
    for (int kw = 0; kw < kW; ++kw) {
      Vec v;
      if constexpr (Two)
        v = V::permute2(row, row_hi, nm.p[kw]);
      else
        v = V::permute(row, nm.p[kw]);
      dw_tap_rows<V, S, KH, KW, R>(acc, v, j, kw, kH, kW, wv, k);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* o = out + (oh0 + static_cast<size_t>(r)) * a.OW;
    const Vec y = V::min(hi, V::max(lo, acc[r]));
    if (static_cast<int64_t>(a.OW) == vw)
      V::store(o, y);
    else
      V::store_n(o, y, static_cast<int64_t>(a.OW));
  }
}

// R rows from oh0: Form 0 the chunked kernel, 1 the narrow one, 2 the narrow one over rows of two
// vectors (nm set for 1 and 2).
template <class V, int S, int KH, int KW, int R, int Form>
inline void direct_block(const DwArgs& a, const DwDirectMasks<V, S>& mk, const void* nm, size_t chunks,
                         const float* in, const typename V::Vec* wv, const float* k, typename V::Vec bias,
                         float* out, size_t oh0) {
  if constexpr (Form > 0)
    narrow_rows<V, S, KH, KW, R, Form == 2>(a, *static_cast<const DwNarrow<V>*>(nm), in, wv, k, bias, out, oh0);
  else
    direct_rows<V, S, KH, KW, R>(a, mk, chunks, in, wv, k, bias, out, oh0);
}

// The last rows of a plane: `left` < R + 1 of them, from oh0.
template <class V, int S, int KH, int KW, int R, int Form>
inline void direct_tail(const DwArgs& a, const DwDirectMasks<V, S>& mk, const void* nm, size_t chunks,
                        const float* in, const typename V::Vec* wv, const float* k, typename V::Vec bias,
                        float* out, size_t oh0, size_t left) {
  if constexpr (R > 0) {
    if (left == static_cast<size_t>(R))
      direct_block<V, S, KH, KW, R, Form>(a, mk, nm, chunks, in, wv, k, bias, out, oh0);
    else
      direct_tail<V, S, KH, KW, R - 1, Form>(a, mk, nm, chunks, in, wv, k, bias, out, oh0, left);
  }
}

// One plane in blocks of R rows.
template <class V, int S, int KH, int KW, int R, int Form>
inline void direct_plane(const DwArgs& a, const DwDirectMasks<V, S>& mk, const void* nm, size_t chunks,
                         const float* in, const typename V::Vec* wv, const float* k, typename V::Vec bias,
                         float* out) {
  size_t oh = 0;
  for (; oh + R <= a.OH; oh += R)
    direct_block<V, S, KH, KW, R, Form>(a, mk, nm, chunks, in, wv, k, bias, out, oh);
  direct_tail<V, S, KH, KW, R - 1, Form>(a, mk, nm, chunks, in, wv, k, bias, out, oh, a.OH - oh);
}

template <class V, int S, int KH, int KW>
inline void direct_planes(const DwArgs& a, size_t t0, size_t t1) {
  constexpr int64_t vw = V::kWidth;
  const size_t kW = KH > 0 ? static_cast<size_t>(KW) : a.kW, kk = KH > 0 ? static_cast<size_t>(KH * KW) : a.kH * a.kW;
  const int64_t W = static_cast<int64_t>(a.W), OW = static_cast<int64_t>(a.OW);
  const size_t chunks = static_cast<size_t>((OW + vw - 1) / vw);
  // Chunk c, tap column kw: the load starts at input column S*c*vw + kw - pL; its valid source
  // elements are those inside [0, W) and, for the row's last chunk, those its outputs read.
  DwDirectMasks<V, S> mk;
  for (size_t kw = 0; kw < kW; ++kw) mk.off[kw] = static_cast<int64_t>(kw) - static_cast<int64_t>(a.pL);
  for (size_t c = 0; c < chunks; ++c) {
    const int64_t n = std::min<int64_t>(vw, OW - vw * static_cast<int64_t>(c));
    mk.full[c] = n == vw;
    for (size_t kw = 0; kw < kW; ++kw) {
      const int64_t base = S * vw * static_cast<int64_t>(c) + mk.off[kw];
      const int64_t lo = std::max<int64_t>(0, -base), hi = std::min<int64_t>(S * (n - 1) + 1, W - base);
      if constexpr (S == 1)
        mk.m[c][kw] = V::mask(lo, std::max(lo, hi));
      else
        mk.m[c][kw] = V::mask2(lo, std::max(lo, hi));
      // Unmasked, the load reads S*vw floats from base: all of them must lie inside the row.
      if (lo > 0 || base + S * vw > W) mk.full[c] = false;
    }
  }
  const size_t outC = a.C * a.mult, OHW = a.OH * a.OW;
  // 8 rows (8 accumulators per chunk) keep both FMA pipes busy; AVX2's 16 registers hold them
  // beside the weights and input vectors only while a row is at most two chunks (measured: 8 rows
  // on AVX2 rows of 4+ chunks ran 0.9-0.95x of 4).
  const bool tall = V::kWidth >= 16 || chunks <= 2;
  int form = 0;
  const void* nm_ptr = nullptr;
  std::conditional_t<DwRowPermute<V>::value, DwNarrow<V>, char> nm;
  if constexpr (DwRowPermute<V>::value) {
    // Rows of up to two vectors only at stride 2 (their 7- to 16-wide output rows); at stride 1 a
    // row that long is two chunks of plain loads already.
    form = OW > vw ? 0 : W <= vw ? 1 : S == 2 && W <= 2 * vw ? 2 : 0;
    if (form) {
      nm.row = V::mask(0, W);
      nm.row_hi = V::mask(0, W - vw);
      for (size_t kw = 0; kw < kW; ++kw) nm.p[kw] = V::perm(S, mk.off[kw], W, OW);
      nm_ptr = &nm;
    }
  }
  (void)nm;
  typename V::Vec wv[KH > 0 ? KH * KW : 1];
  for (size_t t = t0; t < t1; ++t) {
    const size_t oc = t % outC;
    const float* in = a.x + ((t / outC) * a.C + oc / a.mult) * a.H * a.W;
    const float* k = a.w + oc * kk;
    if constexpr (KH > 0)
      for (size_t i = 0; i < kk; ++i) wv[i] = V::set1(k[i]);
    const typename V::Vec bias = V::set1(a.bias ? a.bias[oc] : 0.0f);
    float* out = a.out + t * OHW;
    constexpr int kNarrow = DwRowPermute<V>::value ? 1 : 0, kNarrowTwo = DwRowPermute<V>::value && S == 2 ? 2 : 0;
    if (form == 1)
      direct_plane<V, S, KH, KW, kDwDirectRows, kNarrow>(a, mk, nm_ptr, chunks, in, wv, k, bias, out);
    else if (form == 2)
      direct_plane<V, S, KH, KW, kDwDirectRows, kNarrowTwo>(a, mk, nm_ptr, chunks, in, wv, k, bias, out);
    else if (tall)
      direct_plane<V, S, KH, KW, kDwDirectRows, 0>(a, mk, nullptr, chunks, in, wv, k, bias, out);
    else
      direct_plane<V, S, KH, KW, kDwDirectRowsWide, 0>(a, mk, nullptr, chunks, in, wv, k, bias, out);
    apply_act(a.act, a.act_alpha, a.act_beta, out, OHW);
  }
}

template <class V, int S>
inline void direct_planes_k(const DwArgs& a, size_t t0, size_t t1) {
  if (a.kH == 3 && a.kW == 3)
    direct_planes<V, S, 3, 3>(a, t0, t1);
  else if (a.kH == 5 && a.kW == 5)
    direct_planes<V, S, 5, 5>(a, t0, t1);
  else
    direct_planes<V, S, 0, 0>(a, t0, t1);
}

template <class V>
inline void depthwise_planes(const DwArgs& a, size_t t0, size_t t1, float* scratch) {
  static_assert(static_cast<size_t>(V::kWidth) <= kDwSlack, "kDwSlack covers a vector");
  if constexpr (dw_direct_isa<V>()) {
    if (dw_direct_fits(a, static_cast<size_t>(V::kWidth))) {
      if (a.sW == 1)
        direct_planes_k<V, 1>(a, t0, t1);
      else
        direct_planes_k<V, 2>(a, t0, t1);
      return;
    }
  }
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
