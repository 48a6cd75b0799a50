// Compiled with -mavx512f; called only when active_isa() is avx512.
#include "core/arch.h"
#if SIMDCNN_X86
#include <immintrin.h>

#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_avx512(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecAvx512>(x, y, plan, row, inter);
}

// Partial sums 0-7 and 8-15 in two vectors of doubles; the tail is a masked load (+0 in the
// lanes past it, which leaves a partial sum unchanged: none is ever -0, they start at +0).
double plane_sum16_avx512(const float* x, size_t n) {
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  if (i < n) {
    const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << (n - i)) - 1u), x + i);
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  const __m512d s8 = _mm512_add_pd(lo, hi);                                                        // w = 8
  const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd(s8, 1));   // w = 4
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));        // w = 2
  return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));                                  // w = 1
}

}  // namespace simdcnn
#endif
