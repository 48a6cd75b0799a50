// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include <immintrin.h>

#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_avx2(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecAvx2>(x, y, plan, row, inter);
}

// Partial sums 0-3, 4-7, 8-11, 12-15 in four vectors of doubles; the tail as in the AVX-512 sum.
double plane_sum16_avx2(const float* x, size_t n) {
  __m256d a[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  const auto add16 = [&](__m256 v0, __m256 v1) {
    a[0] = _mm256_add_pd(a[0], _mm256_cvtps_pd(_mm256_castps256_ps128(v0)));
    a[1] = _mm256_add_pd(a[1], _mm256_cvtps_pd(_mm256_extractf128_ps(v0, 1)));
    a[2] = _mm256_add_pd(a[2], _mm256_cvtps_pd(_mm256_castps256_ps128(v1)));
    a[3] = _mm256_add_pd(a[3], _mm256_cvtps_pd(_mm256_extractf128_ps(v1, 1)));
  };
  size_t i = 0;
  for (; i + 16 <= n; i += 16) add16(_mm256_loadu_ps(x + i), _mm256_loadu_ps(x + i + 8));
  if (i < n) {
    const int left = static_cast<int>(n - i);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), idx);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left - 8), idx);
    add16(_mm256_maskload_ps(x + i, m0), _mm256_maskload_ps(x + i + 8, m1));
  }
  const __m256d s0 = _mm256_add_pd(a[0], a[2]), s1 = _mm256_add_pd(a[1], a[3]);               // w = 8
  const __m256d s4 = _mm256_add_pd(s0, s1);                                                     // w = 4
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));      // w = 2
  return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));                                // w = 1
}

}  // namespace simdcnn
#endif
