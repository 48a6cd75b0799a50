// One packed panel (NR = 16, the 6x16 AVX2 GEMM's width): two ymm per row, one FMA per k.
#include "kernels/gemm/linear_packed.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {

template <size_t R>
void panel_rows(size_t K, const float* x, size_t ldx, const float* p, float* y, size_t ldy, size_t cols) {
  __m256 acc[R][2];
  for (size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_loadu_ps(p + k * 16), w1 = _mm256_loadu_ps(p + k * 16 + 8);
    for (size_t r = 0; r < R; ++r) {
      const __m256 xr = _mm256_broadcast_ss(x + r * ldx + k);
      acc[r][0] = _mm256_fmadd_ps(xr, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(xr, w1, acc[r][1]);
    }
  }
  for (size_t r = 0; r < R; ++r) {
    alignas(32) float t[16];
    _mm256_store_ps(t, acc[r][0]);
    _mm256_store_ps(t + 8, acc[r][1]);
    for (size_t j = 0; j < cols; ++j) y[r * ldy + j] = t[j];
  }
}

}  // namespace

void linear_panel_avx2(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y, size_t ldy,
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
