#include "kernels/gemm/gemv.h"

#if SIMDCNN_X86
#include <immintrin.h>

#include <cmath>

namespace simdcnn {

void gemv_rows_avx512(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  // Lanes are 16 rows; one gather per k brings W[r..r+16)[k]. Two independent row groups per pass
  // hide the FMA latency. Row offsets fit int32: the binding caps W at 2^31-1 elements.
  const __m512i step = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(static_cast<int>(ldw)));
  size_t r = 0;
  for (; r + 32 <= rows; r += 32) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + 16 * ldw;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (size_t k = 0; k < K; ++k) {
      const __m512 xk = _mm512_set1_ps(x[k]);
      a0 = _mm512_fmadd_ps(xk, _mm512_i32gather_ps(step, w0 + k, 4), a0);
      a1 = _mm512_fmadd_ps(xk, _mm512_i32gather_ps(step, w1 + k, 4), a1);
    }
    _mm512_storeu_ps(y + r, a0);
    _mm512_storeu_ps(y + r + 16, a1);
  }
  for (; r + 16 <= rows; r += 16) {
    const float* w0 = W + r * ldw;
    __m512 a0 = _mm512_setzero_ps();
    for (size_t k = 0; k < K; ++k) a0 = _mm512_fmadd_ps(_mm512_set1_ps(x[k]), _mm512_i32gather_ps(step, w0 + k, 4), a0);
    _mm512_storeu_ps(y + r, a0);
  }
  for (; r < rows; ++r) {
    const float* w = W + r * ldw;
    float s = 0;
    for (size_t k = 0; k < K; ++k) s = std::fma(x[k], w[k], s);  // vfmadd: the same rounding as the lanes
    y[r] = s;
  }
}

}  // namespace simdcnn
#endif
