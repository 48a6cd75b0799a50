// 8x12 NEON microkernel: 24 q-register accumulators + 3 B vectors + 2 A vectors = 29 of 32 registers;
// per k, 5 loads feed 24 FMAs, each FMA taking its A element as a lane of an A vector (FMLA by element,
// vfmaq_laneq_f32), so A needs no broadcasts. Each element is one fused multiply-add per k in
// increasing k, as the AVX2/AVX-512 kernels; the clamp is compare-and-select (x86 max/min NaN rule).
#include "kernels/gemm/gemm_ukernel.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

namespace simdcnn {
namespace {

// min(hi, max(lo, v)) with the x86 rule (v when it is NaN): lo > v ? lo : v, then hi < . ? hi : .
inline float32x4_t clamp4(float32x4_t v, float32x4_t lo, float32x4_t hi) {
  v = vbslq_f32(vcgtq_f32(lo, v), lo, v);
  return vbslq_f32(vcltq_f32(hi, v), hi, v);
}

}  // namespace

void gemm_ukernel_8x12_neon(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                            const GemmTileParams& p) {
  float32x4_t c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
  float32x4_t c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
#define ROW_INIT(i)                                \
  if (p.load_c) {                                  \
    c##i##0 = vld1q_f32(c + (i) * ldc);            \
    c##i##1 = vld1q_f32(c + (i) * ldc + 4);        \
    c##i##2 = vld1q_f32(c + (i) * ldc + 8);        \
  } else {                                         \
    c##i##0 = c##i##1 = c##i##2 = vdupq_n_f32(0.0f); \
  }
  ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5) ROW_INIT(6) ROW_INIT(7)
#undef ROW_INIT

#define ROW_FMA(i, av, lane)                            \
  c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane);     \
  c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane);     \
  c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);
  for (size_t k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    ROW_FMA(0, a0, 0) ROW_FMA(1, a0, 1) ROW_FMA(2, a0, 2) ROW_FMA(3, a0, 3)
    ROW_FMA(4, a1, 0) ROW_FMA(5, a1, 1) ROW_FMA(6, a1, 2) ROW_FMA(7, a1, 3)
    a += 8;
    b += 12;
  }
#undef ROW_FMA

  const float32x4_t clo = vdupq_n_f32(p.lo), chi = vdupq_n_f32(p.hi);
#define ROW_STORE(i)                                                   \
  if (p.last) {                                                        \
    if (p.row_bias) {                                                  \
      const float32x4_t rb = vdupq_n_f32(p.row_bias[i]);               \
      c##i##0 = vaddq_f32(c##i##0, rb);                                \
      c##i##1 = vaddq_f32(c##i##1, rb);                                \
      c##i##2 = vaddq_f32(c##i##2, rb);                                \
    }                                                                  \
    if (p.col_bias) {                                                  \
      c##i##0 = vaddq_f32(c##i##0, vld1q_f32(p.col_bias));             \
      c##i##1 = vaddq_f32(c##i##1, vld1q_f32(p.col_bias + 4));         \
      c##i##2 = vaddq_f32(c##i##2, vld1q_f32(p.col_bias + 8));         \
    }                                                                  \
    if (p.clamp) {                                                     \
      c##i##0 = clamp4(c##i##0, clo, chi);                             \
      c##i##1 = clamp4(c##i##1, clo, chi);                             \
      c##i##2 = clamp4(c##i##2, clo, chi);                             \
    }                                                                  \
  }                                                                    \
  vst1q_f32(c + (i) * ldc, c##i##0);                                   \
  vst1q_f32(c + (i) * ldc + 4, c##i##1);                               \
  vst1q_f32(c + (i) * ldc + 8, c##i##2);
  ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5) ROW_STORE(6) ROW_STORE(7)
#undef ROW_STORE
}

}  // namespace simdcnn
#endif
