// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include <arm_neon.h>

#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_neon(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecNeon>(x, y, plan, row, inter);
}

// Partial sums in eight vectors of two doubles; the tail element by element into its own lane.
double plane_sum16_neon(const float* x, size_t n) {
  float64x2_t a[8];
  for (auto& v : a) v = vdupq_n_f64(0.0);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int q = 0; q < 4; ++q) {
      const float32x4_t v = vld1q_f32(x + i + 4 * q);
      a[2 * q] = vaddq_f64(a[2 * q], vcvt_f64_f32(vget_low_f32(v)));
      a[2 * q + 1] = vaddq_f64(a[2 * q + 1], vcvt_high_f64_f32(v));
    }
  double s[16];
  for (int q = 0; q < 8; ++q) vst1q_f64(s + 2 * q, a[q]);
  for (size_t j = 0; i < n; ++i, ++j) s[j] += x[i];
  for (size_t w = 8; w > 0; w /= 2)
    for (size_t j = 0; j < w; ++j) s[j] += s[j + w];
  return s[0];
}

}  // namespace simdcnn
#endif
