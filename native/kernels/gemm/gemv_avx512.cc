#include "kernels/gemm/gemv.h"

#if SIMDCNN_X86
#include <immintrin.h>

// GCC 12 warns about its own AVX-512 intrinsics (the _mm512_undefined_ps self-init; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {

// Four rows at a time share each x load; two accumulators per row hide the FMA latency. The K tail
// goes through masked loads (zeros past K), so every row sums in the same vector order.
void gemv_rows_avx512(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  const size_t full = K / 32 * 32;
  const size_t rem = K - full;
  const __mmask16 m0 = static_cast<__mmask16>(rem >= 16 ? 0xFFFF : (1u << rem) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>(rem <= 16 ? 0 : (1u << (rem - 16)) - 1u);
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (size_t k = 0; k < full; k += 32) {
      const __m512 xa = _mm512_loadu_ps(x + k), xb = _mm512_loadu_ps(x + k + 16);
      a0 = _mm512_fmadd_ps(xa, _mm512_loadu_ps(w0 + k), a0);
      a1 = _mm512_fmadd_ps(xa, _mm512_loadu_ps(w1 + k), a1);
      a2 = _mm512_fmadd_ps(xa, _mm512_loadu_ps(w2 + k), a2);
      a3 = _mm512_fmadd_ps(xa, _mm512_loadu_ps(w3 + k), a3);
      b0 = _mm512_fmadd_ps(xb, _mm512_loadu_ps(w0 + k + 16), b0);
      b1 = _mm512_fmadd_ps(xb, _mm512_loadu_ps(w1 + k + 16), b1);
      b2 = _mm512_fmadd_ps(xb, _mm512_loadu_ps(w2 + k + 16), b2);
      b3 = _mm512_fmadd_ps(xb, _mm512_loadu_ps(w3 + k + 16), b3);
    }
    if (rem) {
      const __m512 xa = _mm512_maskz_loadu_ps(m0, x + full);
      a0 = _mm512_fmadd_ps(xa, _mm512_maskz_loadu_ps(m0, w0 + full), a0);
      a1 = _mm512_fmadd_ps(xa, _mm512_maskz_loadu_ps(m0, w1 + full), a1);
      a2 = _mm512_fmadd_ps(xa, _mm512_maskz_loadu_ps(m0, w2 + full), a2);
      a3 = _mm512_fmadd_ps(xa, _mm512_maskz_loadu_ps(m0, w3 + full), a3);
      if (m1) {
        const __m512 xb = _mm512_maskz_loadu_ps(m1, x + full + 16);
        b0 = _mm512_fmadd_ps(xb, _mm512_maskz_loadu_ps(m1, w0 + full + 16), b0);
        b1 = _mm512_fmadd_ps(xb, _mm512_maskz_loadu_ps(m1, w1 + full + 16), b1);
        b2 = _mm512_fmadd_ps(xb, _mm512_maskz_loadu_ps(m1, w2 + full + 16), b2);
        b3 = _mm512_fmadd_ps(xb, _mm512_maskz_loadu_ps(m1, w3 + full + 16), b3);
      }
    }
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a0, b0));
    y[r + 1] = _mm512_reduce_add_ps(_mm512_add_ps(a1, b1));
    y[r + 2] = _mm512_reduce_add_ps(_mm512_add_ps(a2, b2));
    y[r + 3] = _mm512_reduce_add_ps(_mm512_add_ps(a3, b3));
  }
  for (; r < rows; ++r) {
    const float* w = W + r * ldw;
    __m512 a = _mm512_setzero_ps(), b = a;
    for (size_t k = 0; k < full; k += 32) {
      a = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(w + k), a);
      b = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(w + k + 16), b);
    }
    if (rem) {
      a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, x + full), _mm512_maskz_loadu_ps(m0, w + full), a);
      if (m1)
        b = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, x + full + 16), _mm512_maskz_loadu_ps(m1, w + full + 16), b);
    }
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
  }
}

}  // namespace simdcnn
#endif
