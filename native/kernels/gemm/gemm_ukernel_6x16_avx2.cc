// 6x16 AVX2+FMA microkernel: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers;
// 8 loads feed 12 FMAs per k.
#include "kernels/gemm/gemm_ukernel.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {

void gemm_ukernel_6x16_avx2(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                            const GemmTileParams& p) {
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
#define ROW_INIT(i)                                \
  if (p.load_c) {                                  \
    c##i##0 = _mm256_loadu_ps(c + (i) * ldc);      \
    c##i##1 = _mm256_loadu_ps(c + (i) * ldc + 8);  \
  } else {                                         \
    c##i##0 = c##i##1 = _mm256_setzero_ps();       \
  }
  ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5)
#undef ROW_INIT

#define ROW_FMA(i)                                  \
  {                                                 \
    const __m256 ai = _mm256_broadcast_ss(a + (i)); \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);     \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);     \
  }
  for (size_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5)
    a += 6;
    b += 16;
  }
#undef ROW_FMA

  const __m256 clo = _mm256_set1_ps(p.lo), chi = _mm256_set1_ps(p.hi);  // the clamp
#define ROW_STORE(i)                                                       \
  if (p.last) {                                                            \
    if (p.row_bias) {                                                      \
      const __m256 rb = _mm256_set1_ps(p.row_bias[i]);                     \
      c##i##0 = _mm256_add_ps(c##i##0, rb);                                \
      c##i##1 = _mm256_add_ps(c##i##1, rb);                                \
    }                                                                      \
    if (p.col_bias) {                                                      \
      c##i##0 = _mm256_add_ps(c##i##0, _mm256_loadu_ps(p.col_bias));       \
      c##i##1 = _mm256_add_ps(c##i##1, _mm256_loadu_ps(p.col_bias + 8));   \
    }                                                                      \
    if (p.clamp) { /* NaN kept */                                         \
      c##i##0 = _mm256_min_ps(chi, _mm256_max_ps(clo, c##i##0));                              \
      c##i##1 = _mm256_min_ps(chi, _mm256_max_ps(clo, c##i##1));                              \
    }                                                                      \
  }                                                                        \
  _mm256_storeu_ps(c + (i) * ldc, c##i##0);                                \
  _mm256_storeu_ps(c + (i) * ldc + 8, c##i##1);
  ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
#undef ROW_STORE
}

}  // namespace simdcnn
#endif
