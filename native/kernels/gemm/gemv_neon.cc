// NEON gemv (see gemv.h): lanes are 4 rows; 4x4 blocks of W are transposed in registers so each k
// is one fused multiply-add per lane, the chain of gemm_ukernel_8x12_neon's elements.
#include "kernels/gemm/gemv.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

#include <cmath>

namespace simdcnn {

void gemv_rows_neon(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  const size_t kfull = K / 4 * 4;
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (size_t k = 0; k < kfull; k += 4) {
      const float32x4_t v0 = vld1q_f32(w0 + k), v1 = vld1q_f32(w1 + k);
      const float32x4_t v2 = vld1q_f32(w2 + k), v3 = vld1q_f32(w3 + k);
      const float32x4_t t0 = vtrn1q_f32(v0, v1), t1 = vtrn2q_f32(v0, v1);
      const float32x4_t t2 = vtrn1q_f32(v2, v3), t3 = vtrn2q_f32(v2, v3);
      const float32x4_t xk = vld1q_f32(x + k);
      // Column k + q of the four rows, in increasing q.
      acc = vfmaq_laneq_f32(acc, vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2))), xk, 0);
      acc = vfmaq_laneq_f32(acc, vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3))), xk, 1);
      acc = vfmaq_laneq_f32(acc, vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2))), xk, 2);
      acc = vfmaq_laneq_f32(acc, vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3))), xk, 3);
    }
    for (size_t k = kfull; k < K; ++k) {
      const float col[4] = {w0[k], w1[k], w2[k], w3[k]};
      acc = vfmaq_n_f32(acc, vld1q_f32(col), x[k]);
    }
    vst1q_f32(y + r, acc);
  }
  for (; r < rows; ++r) {
    const float* w = W + r * ldw;
    float s = 0;
    for (size_t k = 0; k < K; ++k) s = std::fma(x[k], w[k], s);
    y[r] = s;
  }
}

}  // namespace simdcnn
#endif
