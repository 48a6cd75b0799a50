#include "kernels/gemm/gemv.h"

#if SIMDCNN_X86
#include <immintrin.h>

#include <cmath>

namespace simdcnn {

void gemv_rows_avx2(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  // Lanes are 8 rows; 8x8 blocks of W go through an L1 tile (see gemv_avx512.cc), one FMA per k.
  alignas(32) float tile[8 * 8];
  const __m256i col = _mm256_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56);
  const size_t kfull = K / 8 * 8;
  size_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    const float* w0 = W + r * ldw;
    __m256 acc = _mm256_setzero_ps();
    for (size_t k0 = 0; k0 < kfull; k0 += 8) {
      for (int i = 0; i < 8; ++i) _mm256_store_ps(tile + i * 8, _mm256_loadu_ps(w0 + i * ldw + k0));
      for (int kk = 0; kk < 8; ++kk)
        acc = _mm256_fmadd_ps(_mm256_set1_ps(x[k0 + kk]), _mm256_i32gather_ps(tile + kk, col, 4), acc);
    }
    for (size_t k = kfull; k < K; ++k) {
      for (int i = 0; i < 8; ++i) tile[i * 8] = w0[i * ldw + k];
      acc = _mm256_fmadd_ps(_mm256_set1_ps(x[k]), _mm256_i32gather_ps(tile, col, 4), acc);
    }
    _mm256_storeu_ps(y + r, acc);
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
