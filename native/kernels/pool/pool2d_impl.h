// Pooling written once over a Vec; instantiated by pool2d_<isa>.cc.
//
// A rectangular window reduction is separable, so each plane is pooled in two passes:
//   1. horizontal: every input row is copied into a padded row (the padding filled with the
//      reduction's identity: -inf for max, +inf for min, 0 for the avg sum), then each output
//      column reduces its kW taps: inter[ih, ow] = op_kw row[ow*sW + kw*dW]. Stride 1 reads
//      contiguous vectors; other strides gather.
//   2. vertical: out[oh, ow] = op over the window's real rows of inter[ih, ow], contiguous in ow.
// Rows outside the input are skipped instead of filled, which is the same as clipping the window.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/elementwise/vec.h"
#include "kernels/pool/pool2d.h"

namespace simdcnn {
namespace pool_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

template <class Vec>
struct MaxOp {
  static float identity() { return -std::numeric_limits<float>::infinity(); }
  static typename Vec::V apply(typename Vec::V acc, typename Vec::V v) { return Vec::max_nan(acc, v); }
};
template <class Vec>
struct MinOp {
  static float identity() { return std::numeric_limits<float>::infinity(); }
  static typename Vec::V apply(typename Vec::V acc, typename Vec::V v) { return Vec::min_nan(acc, v); }
};
template <class Vec>
struct SumOp {
  static float identity() { return 0.0f; }
  static typename Vec::V apply(typename Vec::V acc, typename Vec::V v) { return Vec::add(acc, v); }
};

// KW: the kernel width when known at compile time (3: ResNet's and AlexNet's 3x3/2 pools), so the
// tap loop unrolls; 0 reads it from the plan. The plan's fields are copied to locals: the stores
// to `out` would otherwise make the compiler reload them in the innermost loops.
template <class Vec, class Op, int KW = 0>
void horizontal(const float* x, const PoolPlan& p, float* row, float* inter) {
  using V = typename Vec::V;
  constexpr int64_t Wv = Vec::W;
  const float fill = Op::identity();
  const int64_t kW = KW ? KW : p.kW, dW = p.dW, OW = p.OW, W = p.W, pW = p.pW;
  const int64_t right = pW + W;
  for (int64_t i = 0; i < pW; ++i) row[i] = fill;
  for (int64_t i = right; i < p.Wp + kPoolRowSlack; ++i) row[i] = fill;
  for (int64_t ih = 0; ih < p.H; ++ih) {
    const float* xr = x + ih * W;
    std::memcpy(row + pW, xr, static_cast<size_t>(W) * sizeof(float));
    float* out = inter + ih * OW;
    int64_t ow = 0;
    if (p.sW == 1) {
      for (; ow + Wv <= OW; ow += Wv) {
        V acc = Vec::load(row + ow);
        for (int64_t kw = 1; kw < kW; ++kw) acc = Op::apply(acc, Vec::load(row + ow + kw * dW));
        Vec::store(out + ow, acc);
      }
      if (ow < OW) {
        const int rem = static_cast<int>(OW - ow);
        V acc = Vec::load_n(row + ow, rem);
        for (int64_t kw = 1; kw < kW; ++kw) acc = Op::apply(acc, Vec::load_n(row + ow + kw * dW, rem));
        Vec::store_n(out + ow, acc, rem);
      }
    } else {
      if (p.sW == 2) {
        // Even lanes of two contiguous loads and a permute instead of a gather (the padded row has
        // 2*Wv floats of slack past Wp for the odd lanes read beyond the last tap).
        // Two output vectors per step: their reduction chains are independent (latency-bound
        // otherwise).
        for (; ow + 2 * Wv <= OW; ow += 2 * Wv) {
          const float* base = row + ow * 2;
          V a0 = Vec::load_even(base), a1 = Vec::load_even(base + 2 * Wv);
          for (int64_t kw = 1; kw < kW; ++kw) {
            a0 = Op::apply(a0, Vec::load_even(base + kw * dW));
            a1 = Op::apply(a1, Vec::load_even(base + 2 * Wv + kw * dW));
          }
          Vec::store(out + ow, a0);
          Vec::store(out + ow + Wv, a1);
        }
        for (; ow + Wv <= OW; ow += Wv) {
          const float* base = row + ow * 2;
          V acc = Vec::load_even(base);
          for (int64_t kw = 1; kw < kW; ++kw) acc = Op::apply(acc, Vec::load_even(base + kw * dW));
          Vec::store(out + ow, acc);
        }
        if (ow < OW) {  // the slack covers a full 2*Wv read from the last group too
          const float* base = row + ow * 2;
          V acc = Vec::load_even(base);
          for (int64_t kw = 1; kw < kW; ++kw) acc = Op::apply(acc, Vec::load_even(base + kw * dW));
          Vec::store_n(out + ow, acc, static_cast<int>(OW - ow));
          ow = OW;
        }
      }
      for (; ow + Wv <= p.OW; ow += Wv) {
        const float* base = row + ow * p.sW;
        V acc = Vec::gather(base, p.sW);
        for (int64_t kw = 1; kw < p.kW; ++kw) acc = Op::apply(acc, Vec::gather(base + kw * p.dW, p.sW));
        Vec::store(out + ow, acc);
      }
      if (ow < p.OW) {
        const int rem = static_cast<int>(p.OW - ow);
        const float* base = row + ow * p.sW;
        V acc = Vec::gather_n(base, p.sW, rem);
        for (int64_t kw = 1; kw < p.kW; ++kw)
          acc = Op::apply(acc, Vec::gather_n(base + kw * p.dW, p.sW, rem));
        Vec::store_n(out + ow, acc, rem);
      }
    }
  }
}

// The real rows of output row oh's window: ih = hs + kh * dH for kh in [kh0, kh1).
// static: every per-ISA translation unit keeps its own copy (an inline function would be merged by
// the linker, possibly into a copy compiled with AVX-512 flags).
static inline void window_rows(const PoolPlan& p, int64_t oh, int64_t* hs, int64_t* kh0, int64_t* kh1) {
  *hs = oh * p.sH - p.pH;
  int64_t lo = 0;
  if (*hs < 0) lo = (-*hs + p.dH - 1) / p.dH;
  int64_t hi = p.kH;
  const int64_t last = *hs + (p.kH - 1) * p.dH;
  if (last >= p.H) hi = p.kH - ((last - (p.H - 1)) + p.dH - 1) / p.dH;
  *kh0 = lo;
  *kh1 = hi < lo ? lo : hi;
}

template <class Vec, class Op>
void vertical(const float* inter, float* y, const PoolPlan& p) {
  using V = typename Vec::V;
  constexpr int64_t Wv = Vec::W;
  const bool avg = p.mode == PoolMode::kAvg;
  const int64_t OW = p.OW;
  if (!avg) {
    // max / min: the window's real rows, two output vectors per step (independent chains); the
    // plan's fields in locals (see horizontal).
    const int64_t dH = p.dH;
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      int64_t hs, kh0, kh1;
      window_rows(p, oh, &hs, &kh0, &kh1);
      float* out = y + oh * OW;
      if (kh1 <= kh0) {  // no real row (not reachable with pool2d_check's geometry; kept safe)
        for (int64_t ow = 0; ow < OW; ++ow) out[ow] = Op::identity();
        continue;
      }
      const float* first = inter + (hs + kh0 * dH) * OW;
      int64_t ow = 0;
      for (; ow + 2 * Wv <= OW; ow += 2 * Wv) {
        V a0 = Vec::load(first + ow), a1 = Vec::load(first + ow + Wv);
        for (int64_t kh = kh0 + 1; kh < kh1; ++kh) {
          const float* r = inter + (hs + kh * dH) * OW + ow;
          a0 = Op::apply(a0, Vec::load(r));
          a1 = Op::apply(a1, Vec::load(r + Wv));
        }
        Vec::store(out + ow, a0);
        Vec::store(out + ow + Wv, a1);
      }
      for (; ow < OW; ow += Wv) {
        const int n = static_cast<int>(OW - ow < Wv ? OW - ow : Wv);
        V acc = Vec::load_n(first + ow, n);
        for (int64_t kh = kh0 + 1; kh < kh1; ++kh) acc = Op::apply(acc, Vec::load_n(inter + (hs + kh * dH) * OW + ow, n));
        Vec::store_n(out + ow, acc, n);
      }
    }
    return;
  }
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    int64_t hs, kh0, kh1;
    window_rows(p, oh, &hs, &kh0, &kh1);
    float dh = 1.0f;
    if (avg) {
      // dilation is 1 for avg (checked by pool2d_check)
      int64_t he = hs + p.kH;
      if (he > p.H + p.pH) he = p.H + p.pH;
      dh = p.count_include_pad ? static_cast<float>(he - hs)
                               : static_cast<float>((he < p.H ? he : p.H) - (hs > 0 ? hs : 0));
    }
    const V vdh = Vec::set1(dh);
    float* out = y + oh * p.OW;
    int64_t ow = 0;
    for (; ow + Wv <= p.OW; ow += Wv) {
      V acc = Vec::set1(Op::identity());
      for (int64_t kh = kh0; kh < kh1; ++kh)
        acc = Op::apply(acc, Vec::load(inter + (hs + kh * p.dH) * p.OW + ow));
      if (avg) acc = Vec::div(acc, Vec::mul(vdh, Vec::load(p.div_w + ow)));
      Vec::store(out + ow, acc);
    }
    if (ow < p.OW) {
      const int rem = static_cast<int>(p.OW - ow);
      V acc = Vec::set1(Op::identity());
      for (int64_t kh = kh0; kh < kh1; ++kh)
        acc = Op::apply(acc, Vec::load_n(inter + (hs + kh * p.dH) * p.OW + ow, rem));
      if (avg) acc = Vec::div(acc, Vec::mul(vdh, Vec::load_n(p.div_w + ow, rem)));
      Vec::store_n(out + ow, acc, rem);
    }
  }
}

// 2x2 stride-2 windows without padding or dilation (LeNet, VGG, DenseNet's transitions): both
// passes at once, the four taps from even/odd lanes of the two input rows, reading only the
// window's own floats. The separable passes' operations in their order: max/min
// op(op(identity, op(a, b)), op(c, d)); avg ((0 + (a + b)) + (c + d)) / (2 * div_w[ow]).
template <class Vec, class Op>
void pool2x2(const float* x, float* y, const PoolPlan& p) {
  using V = typename Vec::V;
  constexpr int64_t Wv = Vec::W;
  const bool avg = p.mode == PoolMode::kAvg;
  const V two = Vec::set1(2.0f);
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    const float* r0 = x + 2 * oh * p.W;
    const float* r1 = r0 + p.W;
    float* out = y + oh * p.OW;
    for (int64_t ow = 0; ow < p.OW; ow += Wv) {
      const int n = static_cast<int>(p.OW - ow < Wv ? p.OW - ow : Wv);
      const V h0 = Op::apply(Vec::load_even_n(r0 + 2 * ow, n), Vec::load_even_n(r0 + 2 * ow + 1, n));
      const V h1 = Op::apply(Vec::load_even_n(r1 + 2 * ow, n), Vec::load_even_n(r1 + 2 * ow + 1, n));
      V v = Op::apply(Op::apply(Vec::set1(Op::identity()), h0), h1);
      if (avg) v = Vec::div(v, Vec::mul(two, Vec::load_n(p.div_w + ow, n)));
      if (n == Wv) Vec::store(out + ow, v); else Vec::store_n(out + ow, v, n);
    }
  }
}

// Max/min windows, stride 1 or 2 along W (S): each output vector straight from the window's real
// input rows, tap kw of lane l at column S*(ow + l) + kw*dW - pW, with the reduction's identity
// wherever that column lies outside the input (loaded masked, so nothing outside the row is read).
// The same operations in the same order as the separable passes: per real row
// h = op(..op(tap 0, tap 1).., tap kW-1), then op over the window's rows in increasing kh; so the
// same bits, without the padded row copies and the intermediate plane. AVX-512 only: measured
// 1.4-2.3x there on the zoo's 3x3 pools, but 0.8-0.9x with AVX2's 8-float vectors on maps of 112
// and more (each block of rows walks 9 input rows in 64-byte pieces; the separable pass streams).
template <class Vec>
constexpr bool pool_direct_isa() {
  return Vec::W >= 16;
}

constexpr int64_t kPoolDirectRows = 4;  // output rows per block

// Output rows [oh0, oh0 + R) (R > 1 needs dH == 1). Each input row's horizontal reduction h is
// computed once and folded into every output row whose window holds it, in increasing row order;
// the accumulators start from the identity, which op(identity, h) returns unchanged (NaN and
// signed zeros included), so this is the same as starting from the window's first real row. The R
// chains are independent (one chain per vector waits on each op's latency).
template <class Vec, class Op, int S, int KW, int R>
void pool_direct_rows(const float* x, float* out, const PoolPlan& p, int64_t oh0) {
  using V = typename Vec::V;
  constexpr int64_t Wv = Vec::W;
  const int64_t kW = KW ? KW : p.kW, kH = p.kH, dW = p.dW, dH = p.dH, W = p.W, OW = p.OW, pW = p.pW;
  const V fill = Vec::set1(Op::identity());
  // Input rows of the block's windows, clipped to the input.
  const int64_t y0 = std::max<int64_t>(0, oh0 * p.sH - p.pH);
  const int64_t y1 = std::min<int64_t>(p.H, (oh0 + R - 1) * p.sH - p.pH + (kH - 1) * dH + 1);
  for (int64_t ow = 0; ow < OW; ow += Wv) {
    const int64_t n = OW - ow < Wv ? OW - ow : Wv;
    V acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = fill;
    for (int64_t iy = y0; iy < y1; ++iy) {
      const float* row = x + iy * W;
      auto tap = [&](int64_t kw) -> V {
        const int64_t base = S * ow + kw * dW - pW;
        const float* q = reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) + static_cast<uintptr_t>(base * 4));
        if (base >= 0 && base + S * Wv <= W) return S == 1 ? Vec::load(q) : Vec::load_even(q);
        const int64_t lo = -base, hi = std::min<int64_t>(S * (n - 1) + 1, W - base);
        return S == 1 ? Vec::load_fill(q, lo, hi, fill) : Vec::load_even_fill(q, lo, hi, fill);
      };
      V h = tap(0);
#pragma GCC unroll 8
      for (int64_t kw = 1; kw < kW; ++kw) h = Op::apply(h, tap(kw));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const int64_t d = iy - ((oh0 + r) * p.sH - p.pH);  // = kh * dH for a tap of this window
        const bool tap_row = R > 1 ? d >= 0 && d < kH : d >= 0 && d < kH * dH && d % dH == 0;  // R > 1: dH == 1
        if (tap_row) acc[r] = Op::apply(acc[r], h);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      float* o = out + (oh0 + r) * OW + ow;
      if (n == Wv)
        Vec::store(o, acc[r]);
      else
        Vec::store_n(o, acc[r], static_cast<int>(n));
    }
  }
}

template <class Vec, class Op, int S, int KW>
void pool_direct(const float* x, float* y, const PoolPlan& p) {
  int64_t oh = 0;
  if (p.dH == 1)
    for (; oh + kPoolDirectRows <= p.OH; oh += kPoolDirectRows) pool_direct_rows<Vec, Op, S, KW, kPoolDirectRows>(x, y, p, oh);
  for (; oh < p.OH; ++oh) pool_direct_rows<Vec, Op, S, KW, 1>(x, y, p, oh);
}

template <class Vec, class Op>
bool pool_direct_plane(const float* x, float* y, const PoolPlan& p) {
  if constexpr (pool_direct_isa<Vec>()) {
    if (p.sW == 1 || p.sW == 2) {
      if (p.sW == 1 && p.kW == 3) pool_direct<Vec, Op, 1, 3>(x, y, p);
      else if (p.sW == 1) pool_direct<Vec, Op, 1, 0>(x, y, p);
      else if (p.kW == 3) pool_direct<Vec, Op, 2, 3>(x, y, p);
      else pool_direct<Vec, Op, 2, 0>(x, y, p);
      return true;
    }
  }
  return false;
}

template <class Vec>
void plane(const float* x, float* y, const PoolPlan& p, float* row, float* inter) {
  if (p.kH == 2 && p.kW == 2 && p.sH == 2 && p.sW == 2 && p.pH == 0 && p.pW == 0 && p.dH == 1 && p.dW == 1 &&
      2 * p.OH <= p.H && 2 * p.OW <= p.W) {
    if (p.mode == PoolMode::kMax) pool2x2<Vec, MaxOp<Vec>>(x, y, p);
    else if (p.mode == PoolMode::kMin) pool2x2<Vec, MinOp<Vec>>(x, y, p);
    else pool2x2<Vec, SumOp<Vec>>(x, y, p);
    return;
  }
  if (p.mode == PoolMode::kMax && pool_direct_plane<Vec, MaxOp<Vec>>(x, y, p)) return;
  if (p.mode == PoolMode::kMin && pool_direct_plane<Vec, MinOp<Vec>>(x, y, p)) return;
  const bool k3 = p.kW == 3;
  switch (p.mode) {
    case PoolMode::kMax:
      if (k3) horizontal<Vec, MaxOp<Vec>, 3>(x, p, row, inter);
      else horizontal<Vec, MaxOp<Vec>>(x, p, row, inter);
      vertical<Vec, MaxOp<Vec>>(inter, y, p);
      break;
    case PoolMode::kMin:
      if (k3) horizontal<Vec, MinOp<Vec>, 3>(x, p, row, inter);
      else horizontal<Vec, MinOp<Vec>>(x, p, row, inter);
      vertical<Vec, MinOp<Vec>>(inter, y, p);
      break;
    case PoolMode::kAvg:
      horizontal<Vec, SumOp<Vec>>(x, p, row, inter);
      vertical<Vec, SumOp<Vec>>(inter, y, p);
      break;
  }
}

}  // namespace
}  // namespace pool_impl
}  // namespace simdcnn
