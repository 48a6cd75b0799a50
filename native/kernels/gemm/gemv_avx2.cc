#include "kernels/gemm/gemv.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
}  // namespace

// Four rows at a time share each x load; two accumulators per row hide the FMA latency.
void gemv_rows_avx2(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    size_t k = 0;
    for (; k + 16 <= K; k += 16) {
      const __m256 xa = _mm256_loadu_ps(x + k), xb = _mm256_loadu_ps(x + k + 8);
      a0 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w0 + k), a0);
      a1 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w1 + k), a1);
      a2 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w2 + k), a2);
      a3 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w3 + k), a3);
      b0 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(w0 + k + 8), b0);
      b1 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(w1 + k + 8), b1);
      b2 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(w2 + k + 8), b2);
      b3 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(w3 + k + 8), b3);
    }
    float s0 = hsum(_mm256_add_ps(a0, b0)), s1 = hsum(_mm256_add_ps(a1, b1));
    float s2 = hsum(_mm256_add_ps(a2, b2)), s3 = hsum(_mm256_add_ps(a3, b3));
    for (; k < K; ++k) {
      s0 += x[k] * w0[k];
      s1 += x[k] * w1[k];
      s2 += x[k] * w2[k];
      s3 += x[k] * w3[k];
    }
    y[r] = s0;
    y[r + 1] = s1;
    y[r + 2] = s2;
    y[r + 3] = s3;
  }
  for (; r < rows; ++r) {
    const float* w = W + r * ldw;
    __m256 a = _mm256_setzero_ps(), b = a;
    size_t k = 0;
    for (; k + 16 <= K; k += 16) {
      a = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(w + k), a);
      b = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), _mm256_loadu_ps(w + k + 8), b);
    }
    float s = hsum(_mm256_add_ps(a, b));
    for (; k < K; ++k) s += x[k] * w[k];
    y[r] = s;
  }
}

}  // namespace simdcnn
#endif
