#include "kernels/gemm/gemv.h"

#if SIMDCNN_X86
#include <immintrin.h>

#include <cmath>

namespace simdcnn {

void gemv_rows_avx2(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  // Lanes are 8 rows; one gather per k; two row groups per pass hide the FMA latency.
  const __m256i step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                          _mm256_set1_epi32(static_cast<int>(ldw)));
  size_t r = 0;
  for (; r + 16 <= rows; r += 16) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + 8 * ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (size_t k = 0; k < K; ++k) {
      const __m256 xk = _mm256_set1_ps(x[k]);
      a0 = _mm256_fmadd_ps(xk, _mm256_i32gather_ps(w0 + k, step, 4), a0);
      a1 = _mm256_fmadd_ps(xk, _mm256_i32gather_ps(w1 + k, step, 4), a1);
    }
    _mm256_storeu_ps(y + r, a0);
    _mm256_storeu_ps(y + r + 8, a1);
  }
  for (; r + 8 <= rows; r += 8) {
    const float* w0 = W + r * ldw;
    __m256 a0 = _mm256_setzero_ps();
    for (size_t k = 0; k < K; ++k) a0 = _mm256_fmadd_ps(_mm256_set1_ps(x[k]), _mm256_i32gather_ps(w0 + k, step, 4), a0);
    _mm256_storeu_ps(y + r, a0);
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
