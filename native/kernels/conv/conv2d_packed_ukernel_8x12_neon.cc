// 8x12 NEON tile (8 pixels x 12 channels): 24 q-register accumulators + 3 weight vectors + 1 broadcast
// (LD1R) = 28 of 32 registers; 11 loads feed 24 FMAs per k. 4- and 8-channel variants serve the last
// panel when outC % 12 is 1..4 or 5..8. Each element is one fused multiply-add per k in increasing k.
#include "kernels/conv/conv2d_packed_ukernel.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

namespace simdcnn {
namespace {

constexpr size_t kMr = 8;
constexpr size_t kPrefetchK = 64;  // k steps ahead

// r[q] = (v0[q], v1[q], v2[q], v3[q]).
inline void transpose4(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3, float32x4_t r[4]) {
  const float32x4_t t0 = vtrn1q_f32(v0, v1), t1 = vtrn2q_f32(v0, v1);
  const float32x4_t t2 = vtrn1q_f32(v2, v3), t3 = vtrn2q_f32(v2, v3);
  r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
  r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

// min(hi, max(lo, v)) with the x86 rule (v when it is NaN).
inline float32x4_t clamp4(float32x4_t v, float32x4_t lo, float32x4_t hi) {
  v = vbslq_f32(vcgtq_f32(lo, v), lo, v);
  return vbslq_f32(vcltq_f32(hi, v), hi, v);
}

template <int NV>
void tile_8xnv(const ConvTileArgs& a) {
  constexpr size_t nr = 4 * NV;
  const float* r[kMr];
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) r[i] = a.rows[i];
  float32x4_t acc[kMr][NV];
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = a.first ? vdupq_n_f32(0.0f) : vld1q_f32(a.acc + i * nr + 4 * v);
  const float* b = a.b;
  const int64_t* offs = a.offs;
  const float* pf = a.pf;
  for (size_t k = 0; k < a.kc; ++k, b += nr) {
    const int64_t o = offs[k];
    float32x4_t bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) bv[v] = vld1q_f32(b + 4 * v);
    __builtin_prefetch(b + kPrefetchK * nr);
    if (pf) __builtin_prefetch(pf + 16 * k, 0, 2);
#pragma GCC unroll 8
    for (size_t i = 0; i < kMr; ++i) {
      const float32x4_t x = vld1q_dup_f32(r[i] + o);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = vfmaq_f32(acc[i][v], x, bv[v]);
    }
  }
  if (!a.last) {
#pragma GCC unroll 8
    for (size_t i = 0; i < kMr; ++i)
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) vst1q_f32(a.acc + i * nr + 4 * v, acc[i][v]);
    return;
  }
  // Epilogue: bias in the pixel-major layout (one vector per row), then 4x4 transposes to channel
  // rows of 8 pixels for the residual, the clamp and the NCHW store.
  if (a.bias) {
    float bb[nr];
    for (size_t j = 0; j < nr; ++j) bb[j] = j < a.w ? a.bias[j] : 0.0f;
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      const float32x4_t bvec = vld1q_f32(bb + 4 * v);
#pragma GCC unroll 8
      for (size_t i = 0; i < kMr; ++i) acc[i][v] = vaddq_f32(acc[i][v], bvec);
    }
  }
  alignas(16) float t[nr][kMr];
#pragma GCC unroll 3
  for (int v = 0; v < NV; ++v) {
    float32x4_t q[4];
    transpose4(acc[0][v], acc[1][v], acc[2][v], acc[3][v], q);
    for (int c = 0; c < 4; ++c) vst1q_f32(t[4 * v + c], q[c]);
    transpose4(acc[4][v], acc[5][v], acc[6][v], acc[7][v], q);
    for (int c = 0; c < 4; ++c) vst1q_f32(t[4 * v + c] + 4, q[c]);
  }
  const float32x4_t clo = vdupq_n_f32(a.lo), chi = vdupq_n_f32(a.hi);
  for (size_t j = 0; j < a.w; ++j) {
    float* o = a.out + j * a.ohw;
    const float* res = a.residual ? a.residual + j * a.ohw : nullptr;
    if (a.h == kMr) {
      float32x4_t lo = vld1q_f32(t[j]), hi = vld1q_f32(t[j] + 4);
      if (res) {
        lo = vaddq_f32(lo, vld1q_f32(res));
        hi = vaddq_f32(hi, vld1q_f32(res + 4));
      }
      if (a.clamp) {
        lo = clamp4(lo, clo, chi);
        hi = clamp4(hi, clo, chi);
      }
      vst1q_f32(o, lo);
      vst1q_f32(o + 4, hi);
    } else {
      for (size_t i = 0; i < a.h; ++i) {
        float v = t[j][i];
        if (res) v += res[i];
        if (a.clamp) {  // NaN propagates (the compares are false)
          if (a.lo > v) v = a.lo;
          if (a.hi < v) v = a.hi;
        }
        o[i] = v;
      }
    }
  }
}

}  // namespace

void conv_packed_tile_8x12_neon(const ConvTileArgs& a) {
  if (a.nr <= 4)
    tile_8xnv<1>(a);
  else if (a.nr <= 8)
    tile_8xnv<2>(a);
  else
    tile_8xnv<3>(a);
}

}  // namespace simdcnn
#endif
