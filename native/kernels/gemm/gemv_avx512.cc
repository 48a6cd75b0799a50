#include "kernels/gemm/gemv.h"

#if SIMDCNN_X86
#include <immintrin.h>

#include <cmath>

namespace simdcnn {

void gemv_rows_avx512(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  // Lanes are 16 rows. Each 16x16 block of W (16 rows, 16 consecutive k) is copied with row loads
  // into an L1 tile, and columns are gathered from the tile (a strided gather straight from W
  // would touch 16 pages per k). Then one FMA per k, in increasing k: the GEMM's order.
  alignas(64) float tile[16 * 16];
  const __m512i col = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(16));
  const size_t kfull = K / 16 * 16;
  size_t r = 0;
  for (; r + 16 <= rows; r += 16) {
    const float* w0 = W + r * ldw;
    __m512 acc = _mm512_setzero_ps();
    for (size_t k0 = 0; k0 < kfull; k0 += 16) {
      for (int i = 0; i < 16; ++i) _mm512_store_ps(tile + i * 16, _mm512_loadu_ps(w0 + i * ldw + k0));
      for (int kk = 0; kk < 16; ++kk)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(x[k0 + kk]), _mm512_i32gather_ps(col, tile + kk, 4), acc);
    }
    if (kfull < K) {
      const __mmask16 m = static_cast<__mmask16>((1u << (K - kfull)) - 1u);
      for (int i = 0; i < 16; ++i) _mm512_store_ps(tile + i * 16, _mm512_maskz_loadu_ps(m, w0 + i * ldw + kfull));
      for (size_t kk = 0; kfull + kk < K; ++kk)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(x[kfull + kk]), _mm512_i32gather_ps(col, tile + kk, 4), acc);
    }
    _mm512_storeu_ps(y + r, acc);
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
