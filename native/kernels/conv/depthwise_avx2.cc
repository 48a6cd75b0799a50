#include "kernels/conv/depthwise_impl.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {
struct Avx2Row {
  static void fill(float* o, float v, size_t n) {
    const __m256 vv = _mm256_set1_ps(v);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, vv);
    for (; i < n; ++i) o[i] = v;
  }
  static void axpy(float* o, const float* x, float w, size_t n) {
    const __m256 wv = _mm256_set1_ps(w);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(o + i, _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(o + i)));
    for (; i < n; ++i) o[i] = __builtin_fmaf(w, x[i], o[i]);
  }
  static void relu(float* o, size_t n) {
    const __m256 z = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, _mm256_max_ps(z, _mm256_loadu_ps(o + i)));
    for (; i < n; ++i)
      if (o[i] < 0.0f) o[i] = 0.0f;
  }
};
}  // namespace

void depthwise_plane_avx2(const DwPlaneArgs& a) { dw_detail::depthwise_plane<Avx2Row>(a); }

}  // namespace simdcnn
#endif
