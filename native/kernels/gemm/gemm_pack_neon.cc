// NEON packing: row copies a q register at a time, column copies (transposes) in 4x4 blocks.
#include "kernels/gemm/gemm_pack.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

namespace simdcnn {
namespace {

// r[q] = (v0[q], v1[q], v2[q], v3[q]).
inline void transpose4(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3, float32x4_t r[4]) {
  const float32x4_t t0 = vtrn1q_f32(v0, v1), t1 = vtrn2q_f32(v0, v1);
  const float32x4_t t2 = vtrn1q_f32(v2, v3), t3 = vtrn2q_f32(v2, v3);
  r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
  r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

}  // namespace

void gemm_copy_rows_neon(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst) {
  if (w == 12 && nr == 12) {  // full panel of the 8x12 kernel
    for (size_t k = 0; k < kc; ++k) {
      const float* s = base + offs[k];
      float* d = dst + k * 12;
      vst1q_f32(d, vld1q_f32(s));
      vst1q_f32(d + 4, vld1q_f32(s + 4));
      vst1q_f32(d + 8, vld1q_f32(s + 8));
    }
    return;
  }
  for (size_t k = 0; k < kc; ++k) {
    const float* s = base + offs[k];
    float* d = dst + k * nr;
    size_t j = 0;
    for (; j + 4 <= w; j += 4) vst1q_f32(d + j, vld1q_f32(s + j));
    for (; j < w; ++j) d[j] = s[j];
    for (; j < nr; ++j) d[j] = 0.0f;
  }
}

void gemm_copy_cols_neon(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst) {
  size_t j = 0;
  for (; j + 4 <= w; j += 4) {
    const float* s = src + j * ld;
    size_t k = 0;
    for (; k + 4 <= kc; k += 4) {
      float32x4_t r[4];
      transpose4(vld1q_f32(s + k), vld1q_f32(s + ld + k), vld1q_f32(s + 2 * ld + k), vld1q_f32(s + 3 * ld + k), r);
      for (int q = 0; q < 4; ++q) vst1q_f32(dst + (k + q) * nr + j, r[q]);
    }
    for (; k < kc; ++k)
      for (size_t jj = 0; jj < 4; ++jj) dst[k * nr + j + jj] = s[jj * ld + k];
  }
  for (; j < w; ++j) {
    const float* s = src + j * ld;
    for (size_t k = 0; k < kc; ++k) dst[k * nr + j] = s[k];
  }
  for (size_t k = 0; k < kc; ++k)
    for (size_t jj = w; jj < nr; ++jj) dst[k * nr + jj] = 0.0f;
}

}  // namespace simdcnn
#endif
