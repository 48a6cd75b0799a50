#include "kernels/conv/depthwise_impl.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {
struct Avx2Vec {
  static constexpr int64_t kWidth = 8;
  using Vec = __m256;
  static Vec set1(float v) { return _mm256_set1_ps(v); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  // Even elements of p[0..16): shuffle picks [0 2 8 10 | 4 6 12 14], the permute puts the 64-bit
  // pairs in order.
  static Vec load_s2(const float* p) {
    const __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    const __m256 s = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  // load_s2 of the first n floats at p only (others read as 0; nothing past them is touched).
  static Vec load_s2_n(const float* p, int64_t n) {
    const __m256 lo = _mm256_maskload_ps(p, lanes(n)), hi = _mm256_maskload_ps(p + 8, lanes(n - 8));
    const __m256 s = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static __m256i lanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec load_n(const float* p, int64_t n) { return _mm256_maskload_ps(p, lanes(n)); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  static void store_n(float* p, Vec v, int64_t n) { _mm256_maskstore_ps(p, lanes(n), v); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  using M = __m256i;  // lanes [lo, hi) of one vector (mask2 is two of them)
  static M mask(int64_t lo, int64_t hi) {
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < lo ? lo : hi > 8 ? 8 : hi;
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lo)), idx),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), idx));
  }
  static Vec load_m(const float* p, M m) { return _mm256_maskload_ps(p, m); }
  struct M2 {
    __m256i a, b;
  };
  static M2 mask2(int64_t lo, int64_t hi) { return M2{mask(lo, hi), mask(lo - 8, hi - 8)}; }
  static Vec load_s2_m(const float* p, M2 m) {
    const __m256 lo = _mm256_maskload_ps(p, m.a), hi = _mm256_maskload_ps(p + 8, m.b);
    const __m256 s = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
  }
};
}  // namespace

void depthwise_planes_avx2(const DwArgs& a, size_t t0, size_t t1, float* scratch) {
  dw_detail::depthwise_planes<Avx2Vec>(a, t0, t1, scratch);
}

}  // namespace simdcnn
#endif
