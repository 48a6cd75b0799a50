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
#include <cmath>
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

// 2x2 stride-2 max/min windows without padding or dilation (LeNet, VGG): both passes at once, the
// four taps from even/odd lanes of the two input rows, reading only the window's own floats. Same
// result as the separable passes: op(op(a, b), op(c, d)) either way.
template <class Vec, class Op>
void pool2x2(const float* x, float* y, const PoolPlan& p) {
  using V = typename Vec::V;
  constexpr int64_t Wv = Vec::W;
  for (int64_t oh = 0; oh < p.OH; ++oh) {
    const float* r0 = x + 2 * oh * p.W;
    const float* r1 = r0 + p.W;
    float* out = y + oh * p.OW;
    for (int64_t ow = 0; ow < p.OW; ow += Wv) {
      const int n = static_cast<int>(p.OW - ow < Wv ? p.OW - ow : Wv);
      const V h0 = Op::apply(Vec::load_even_n(r0 + 2 * ow, n), Vec::load_even_n(r0 + 2 * ow + 1, n));
      const V h1 = Op::apply(Vec::load_even_n(r1 + 2 * ow, n), Vec::load_even_n(r1 + 2 * ow + 1, n));
      const V v = Op::apply(Op::apply(Vec::set1(Op::identity()), h0), h1);
      if (n == Wv) Vec::store(out + ow, v); else Vec::store_n(out + ow, v, n);
    }
  }
}

template <class Vec>
void plane(const float* x, float* y, const PoolPlan& p, float* row, float* inter) {
  if (p.kH == 2 && p.kW == 2 && p.sH == 2 && p.sW == 2 && p.pH == 0 && p.pW == 0 && p.dH == 1 && p.dW == 1 &&
      2 * p.OH <= p.H && 2 * p.OW <= p.W && p.mode != PoolMode::kAvg) {
    if (p.mode == PoolMode::kMax) pool2x2<Vec, MaxOp<Vec>>(x, y, p);
    else pool2x2<Vec, MinOp<Vec>>(x, y, p);
    return;
  }
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
