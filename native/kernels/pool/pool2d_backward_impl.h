// The gradient of pooling written once over a Vec; instantiated by pool2d_backward_<isa>.cc.
//
// max/min: lanes are output columns. Every tap of a window is scanned in the forward's order
// (kh, then kw) and a lane keeps the in-plane offset of its running arg-extreme; the tap offset
// relative to the window's column start is the same for all lanes, so it is a broadcast. Only
// "interior" columns (whole window inside the row) take the vector path: a padded tap must never
// win, and a fill value cannot guarantee that (an all -inf window must still pick its first real
// tap). The few border columns are scanned one by one over their clipped taps. The gradient is
// then added serially, since overlapping windows may pick the same cell.
//
// avg: the forward's separable passes in reverse. g[ow] = dy / divisor, then a vertical scatter
// into inter[ih, ow] over the window's real rows, then a horizontal scatter of each inter row into
// a padded row whose padding is discarded (the same as clipping the window).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/elementwise/vec.h"
#include "kernels/pool/pool2d.h"
#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {
namespace pool_bwd_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// Per-ISA lane masks and int32 lanes for the arg-extreme scan. better(): the candidate replaces
// the running extreme when it compares strictly better or is NaN (so ties keep the first tap, a
// NaN beats numbers, and a later NaN replaces an earlier one).
template <class Vec>
struct Arg;

template <>
struct Arg<vec::VecScalar> {
  using V = float;
  using I = int32_t;
  template <bool kMax>
  static void update(V v, int32_t off, V* best, I* idx) {
    if ((kMax ? v > *best : v < *best) || std::isnan(v)) {
      *best = v;
      *idx = off;
    }
  }
  static I set1(int32_t off) { return off; }
  static void store(int32_t* p, I i) { *p = i; }
  // g where idx == k, else +0 (bitwise: a NaN gradient stays where it belongs).
  static V select_eq(I idx, int32_t k, V g) { return idx == k ? g : 0.0f; }
};

#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
template <>
struct Arg<vec::VecAvx2> {
  using V = __m256;
  using I = __m256i;
  template <bool kMax>
  static void update(V v, int32_t off, V* best, I* idx) {
    const __m256 m = _mm256_or_ps(_mm256_cmp_ps(v, *best, kMax ? _CMP_GT_OQ : _CMP_LT_OQ),
                                  _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    *best = _mm256_blendv_ps(*best, v, m);
    *idx = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(*idx), _mm256_castsi256_ps(_mm256_set1_epi32(off)), m));
  }
  static I set1(int32_t off) { return _mm256_set1_epi32(off); }
  static void store(int32_t* p, I i) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), i); }
  static V select_eq(I idx, int32_t k, V g) {
    return _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(idx, _mm256_set1_epi32(k))));
  }
};
#endif

#if defined(__AVX512F__)
template <>
struct Arg<vec::VecAvx512> {
  using V = __m512;
  using I = __m512i;
  template <bool kMax>
  static void update(V v, int32_t off, V* best, I* idx) {
    const __mmask16 m = _mm512_cmp_ps_mask(v, *best, kMax ? _CMP_GT_OQ : _CMP_LT_OQ) |
                        _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    *best = _mm512_mask_mov_ps(*best, m, v);
    *idx = _mm512_mask_mov_epi32(*idx, m, _mm512_set1_epi32(off));
  }
  static I set1(int32_t off) { return _mm512_set1_epi32(off); }
  static void store(int32_t* p, I i) { _mm512_storeu_si512(p, i); }
  static V select_eq(I idx, int32_t k, V g) { return _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(idx, _mm512_set1_epi32(k)), g); }
};
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
template <>
struct Arg<vec::VecNeon> {
  using V = float32x4_t;
  using I = int32x4_t;
  template <bool kMax>
  static void update(V v, int32_t off, V* best, I* idx) {
    // v != v only for NaN.
    const uint32x4_t m = vorrq_u32(kMax ? vcgtq_f32(v, *best) : vcltq_f32(v, *best), vmvnq_u32(vceqq_f32(v, v)));
    *best = vbslq_f32(m, v, *best);
    *idx = vbslq_s32(m, vdupq_n_s32(off), *idx);
  }
  static I set1(int32_t off) { return vdupq_n_s32(off); }
  static void store(int32_t* p, I i) { vst1q_s32(p, i); }
  static V select_eq(I idx, int32_t k, V g) {
    return vreinterpretq_f32_u32(vandq_u32(vceqq_s32(idx, vdupq_n_s32(k)), vreinterpretq_u32_f32(g)));
  }
};
#endif

// The helpers below are templates on Vec although only extreme_plane needs it: each per-ISA
// translation unit must get its own symbols, or the linker could hand the scalar path a copy
// compiled with AVX-512 flags.

// The real taps of output column ow's window: iw = ws + kw * dW for kw in [kw0, kw1).
template <class Vec>
void window_cols(const PoolPlan& p, int64_t ow, int64_t* ws, int64_t* kw0, int64_t* kw1) {
  *ws = ow * p.sW - p.pW;
  int64_t lo = 0;
  if (*ws < 0) lo = (-*ws + p.dW - 1) / p.dW;
  int64_t hi = p.kW;
  const int64_t last = *ws + (p.kW - 1) * p.dW;
  if (last >= p.W) hi = p.kW - ((last - (p.W - 1)) + p.dW - 1) / p.dW;
  *kw0 = lo;
  *kw1 = hi < lo ? lo : hi;
}

// One border column of output row oh (rows [kh0, kh1) are real).
template <class Vec, bool kMax>
void extreme_one(const float* x, float* dx, const PoolPlan& p, int64_t hs, int64_t kh0, int64_t kh1, int64_t ow,
                 float g) {
  int64_t ws, kw0, kw1;
  window_cols<Vec>(p, ow, &ws, &kw0, &kw1);
  float best = 0.0f;
  int64_t arg = -1;
  for (int64_t kh = kh0; kh < kh1; ++kh) {
    const int64_t r = (hs + kh * p.dH) * p.W + ws;
    for (int64_t kw = kw0; kw < kw1; ++kw) {
      const float v = x[r + kw * p.dW];
      if (arg < 0 || (kMax ? v > best : v < best) || std::isnan(v)) {
        best = v;
        arg = r + kw * p.dW;
      }
    }
  }
  if (arg >= 0) dx[arg] += g;
}

template <class Vec, bool kMax>
void extreme_plane(const float* x, const float* dy, float* dx, const PoolPlan& p) {
  using A = Arg<Vec>;
  constexpr int64_t Wv = Vec::W;
  std::memset(dx, 0, static_cast<size_t>(p.H * p.W) * sizeof(float));
  // Interior columns: ws >= 0 and ws + (kW - 1) * dW <= W - 1.
  const int64_t ow_lo0 = (p.pW + p.sW - 1) / p.sW;
  const int64_t span = p.W - 1 + p.pW - (p.kW - 1) * p.dW;
  int64_t ow_hi = span < 0 ? 0 : span / p.sW + 1;
  if (ow_hi > p.OW) ow_hi = p.OW;
  const int64_t ow_lo = ow_lo0 < ow_hi ? ow_lo0 : ow_hi;
  int32_t idx[Wv];
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    int64_t hs, kh0, kh1;
    pool_impl::window_rows(p, oh, &hs, &kh0, &kh1);
    const float* g = dy + oh * p.OW;
    for (int64_t ow = 0; ow < ow_lo; ++ow) extreme_one<Vec, kMax>(x, dx, p, hs, kh0, kh1, ow, g[ow]);
    if (kh0 < kh1) {
      for (int64_t ow = ow_lo; ow < ow_hi; ow += Wv) {
        const int rem = ow_hi - ow < Wv ? static_cast<int>(ow_hi - ow) : static_cast<int>(Wv);
        const float* col = x + (ow * p.sW - p.pW);  // the lanes' window starts (>= 0 inside)
        auto tap = [&](int64_t off) {
          if (p.sW == 1) return rem == Wv ? Vec::load(col + off) : Vec::load_n(col + off, rem);
          return rem == Wv ? Vec::gather(col + off, p.sW) : Vec::gather_n(col + off, p.sW, rem);
        };
        const int64_t off0 = (hs + kh0 * p.dH) * p.W;
        typename Vec::V best = tap(off0);
        typename A::I arg = A::set1(static_cast<int32_t>(off0));
        for (int64_t kh = kh0; kh < kh1; ++kh) {
          const int64_t r = (hs + kh * p.dH) * p.W;
          for (int64_t kw = kh == kh0 ? 1 : 0; kw < p.kW; ++kw) {
            const int64_t off = r + kw * p.dW;
            A::template update<kMax>(tap(off), static_cast<int32_t>(off), &best, &arg);
          }
        }
        A::store(idx, arg);
        const int64_t start = ow * p.sW - p.pW;
        for (int l = 0; l < rem; ++l) dx[start + l * p.sW + idx[l]] += g[ow + l];
      }
    }
    for (int64_t ow = ow_hi; ow < p.OW; ++ow) extreme_one<Vec, kMax>(x, dx, p, hs, kh0, kh1, ow, g[ow]);
  }
}

// scratch: Wp + OW + H * OW floats.
template <class Vec>
void avg_plane(const float* dy, float* dx, const PoolPlan& p, float* scratch) {
  constexpr int64_t Wv = Vec::W;
  float* row = scratch;
  float* g = row + p.Wp;
  float* inter = g + p.OW;
  std::memset(inter, 0, static_cast<size_t>(p.H * p.OW) * sizeof(float));
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    int64_t hs, kh0, kh1;
    pool_impl::window_rows(p, oh, &hs, &kh0, &kh1);
    // dilation is 1 for avg (checked by pool2d_check); the divisor is the forward's.
    int64_t he = hs + p.kH;
    if (he > p.H + p.pH) he = p.H + p.pH;
    const float dh = p.count_include_pad ? static_cast<float>(he - hs)
                                         : static_cast<float>((he < p.H ? he : p.H) - (hs > 0 ? hs : 0));
    const auto vdh = Vec::set1(dh);
    const float* d = dy + oh * p.OW;
    int64_t ow = 0;
    for (; ow + Wv <= p.OW; ow += Wv)
      Vec::store(g + ow, Vec::div(Vec::load(d + ow), Vec::mul(vdh, Vec::load(p.div_w + ow))));
    if (ow < p.OW) {
      const int rem = static_cast<int>(p.OW - ow);
      // Lanes past rem divide 0 by 0; they are never stored.
      Vec::store_n(g + ow, Vec::div(Vec::load_n(d + ow, rem), Vec::mul(vdh, Vec::load_n(p.div_w + ow, rem))), rem);
    }
    for (int64_t kh = kh0; kh < kh1; ++kh) {
      float* dst = inter + (hs + kh) * p.OW;
      ow = 0;
      for (; ow + Wv <= p.OW; ow += Wv) Vec::store(dst + ow, Vec::add(Vec::load(dst + ow), Vec::load(g + ow)));
      if (ow < p.OW) {
        const int rem = static_cast<int>(p.OW - ow);
        Vec::store_n(dst + ow, Vec::add(Vec::load_n(dst + ow, rem), Vec::load_n(g + ow, rem)), rem);
      }
    }
  }
  for (int64_t ih = 0; ih < p.H; ++ih) {
    const float* src = inter + ih * p.OW;
    std::memset(row, 0, static_cast<size_t>(p.Wp) * sizeof(float));
    if (p.sW == 1) {
      for (int64_t kw = 0; kw < p.kW; ++kw) {
        float* dst = row + kw;
        int64_t ow = 0;
        for (; ow + Wv <= p.OW; ow += Wv) Vec::store(dst + ow, Vec::add(Vec::load(dst + ow), Vec::load(src + ow)));
        if (ow < p.OW) {
          const int rem = static_cast<int>(p.OW - ow);
          Vec::store_n(dst + ow, Vec::add(Vec::load_n(dst + ow, rem), Vec::load_n(src + ow, rem)), rem);
        }
      }
    } else {
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        float* dst = row + ow * p.sW;
        const float v = src[ow];
        for (int64_t kw = 0; kw < p.kW; ++kw) dst[kw] += v;
      }
    }
    std::memcpy(dx + ih * p.W, row + p.pW, static_cast<size_t>(p.W) * sizeof(float));
  }
}

// 2x2 windows, stride 2, no padding or dilation (LeNet's, VGG's, most CNNs' pooling): the windows
// tile the plane without overlap, so each cell gets its window's gradient or 0, with no running
// scatter. Lanes are windows: the four taps (even and odd columns of two rows) are compared in the
// forward's order with the same rule (strictly better or NaN replaces, Arg::update), the gradient
// is selected per tap, and the even/odd results are interleaved back into the two rows. The scalar
// fallback of the old loop was branchy on unpredictable comparisons and took a quarter of a
// LeNet-5 training step. Cells past the last window (odd H or W) get 0.
template <class Vec, bool kMax>
void extreme_2x2_plane(const float* x, const float* dy, float* dx, const PoolPlan& p) {
  using A = Arg<Vec>;
  constexpr int64_t Wv = Vec::W;
  const int64_t W = p.W, OW = p.OW;
  float e[4][Wv];
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const float* r1 = r0 + W;
    float* d0 = dx + 2 * oh * W;
    float* d1 = d0 + W;
    const float* g = dy + oh * OW;
    for (int64_t ow = 0; ow < OW; ow += Wv) {
      const int n = OW - ow < Wv ? static_cast<int>(OW - ow) : static_cast<int>(Wv);
      // load_even_n reads 2n - 1 floats: never past the window's last column.
      typename Vec::V best = Vec::load_even_n(r0 + 2 * ow, n);
      typename A::I arg = A::set1(0);
      A::template update<kMax>(Vec::load_even_n(r0 + 2 * ow + 1, n), 1, &best, &arg);
      A::template update<kMax>(Vec::load_even_n(r1 + 2 * ow, n), 2, &best, &arg);
      A::template update<kMax>(Vec::load_even_n(r1 + 2 * ow + 1, n), 3, &best, &arg);
      const typename Vec::V gv = n == Wv ? Vec::load(g + ow) : Vec::load_n(g + ow, n);
      for (int k = 0; k < 4; ++k) Vec::store(e[k], A::select_eq(arg, k, gv));
      for (int l = 0; l < n; ++l) {
        d0[2 * (ow + l)] = e[0][l];
        d0[2 * (ow + l) + 1] = e[1][l];
        d1[2 * (ow + l)] = e[2][l];
        d1[2 * (ow + l) + 1] = e[3][l];
      }
    }
    for (int64_t w = 2 * OW; w < W; ++w) d0[w] = d1[w] = 0.0f;
  }
  if (2 * p.OH < p.H) std::memset(dx + 2 * p.OH * W, 0, static_cast<size_t>((p.H - 2 * p.OH) * W) * sizeof(float));
}

template <class Vec>
bool tiles_2x2(const PoolPlan& p) {
  // ceil_mode may add a last window hanging over the edge: those take the general path.
  return p.kH == 2 && p.kW == 2 && p.sH == 2 && p.sW == 2 && p.pH == 0 && p.pW == 0 && p.dH == 1 && p.dW == 1 &&
         2 * p.OH <= p.H && 2 * p.OW <= p.W;
}

template <class Vec>
void plane(const float* x, const float* dy, float* dx, const PoolPlan& p, float* scratch) {
  switch (p.mode) {
    case PoolMode::kMax:
      if (tiles_2x2<Vec>(p)) extreme_2x2_plane<Vec, true>(x, dy, dx, p);
      else extreme_plane<Vec, true>(x, dy, dx, p);
      break;
    case PoolMode::kMin:
      if (tiles_2x2<Vec>(p)) extreme_2x2_plane<Vec, false>(x, dy, dx, p);
      else extreme_plane<Vec, false>(x, dy, dx, p);
      break;
    case PoolMode::kAvg: avg_plane<Vec>(dy, dx, p, scratch); break;
  }
}

}  // namespace
}  // namespace pool_bwd_impl
}  // namespace simdcnn
