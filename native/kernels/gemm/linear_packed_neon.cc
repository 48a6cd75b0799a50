// One packed panel (NR = 12, the 8x12 NEON GEMM's width): three q registers per row, one fused
// multiply-add per k, as that kernel.
#include "kernels/gemm/linear_packed.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

namespace simdcnn {
namespace {

template <size_t R>
void panel_rows(size_t K, const float* x, size_t ldx, const float* p, float* y, size_t ldy, size_t cols) {
  float32x4_t acc[R][3];
  for (size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = acc[r][2] = vdupq_n_f32(0.0f);
  for (size_t k = 0; k < K; ++k) {
    const float32x4_t w0 = vld1q_f32(p + k * 12), w1 = vld1q_f32(p + k * 12 + 4), w2 = vld1q_f32(p + k * 12 + 8);
    for (size_t r = 0; r < R; ++r) {
      const float xr = x[r * ldx + k];
      acc[r][0] = vfmaq_n_f32(acc[r][0], w0, xr);
      acc[r][1] = vfmaq_n_f32(acc[r][1], w1, xr);
      acc[r][2] = vfmaq_n_f32(acc[r][2], w2, xr);
    }
  }
  for (size_t r = 0; r < R; ++r) {
    float t[12];
    vst1q_f32(t, acc[r][0]);
    vst1q_f32(t + 4, acc[r][1]);
    vst1q_f32(t + 8, acc[r][2]);
    for (size_t j = 0; j < cols; ++j) y[r * ldy + j] = t[j];
  }
}

}  // namespace

void linear_panel_neon(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y, size_t ldy,
                       size_t cols) {
  switch (rows) {
    case 1: panel_rows<1>(K, x, ldx, panel, y, ldy, cols); break;
    case 2: panel_rows<2>(K, x, ldx, panel, y, ldy, cols); break;
    case 3: panel_rows<3>(K, x, ldx, panel, y, ldy, cols); break;
    default: panel_rows<4>(K, x, ldx, panel, y, ldy, cols); break;
  }
}

}  // namespace simdcnn
#endif
