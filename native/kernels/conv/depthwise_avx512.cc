#include "kernels/conv/depthwise_impl.h"

#if SIMDCNN_X86
#include <immintrin.h>

// GCC 12 warns about its own AVX-512 intrinsics (the _mm512_undefined_ps self-init; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {
namespace {
// Tails use masked loads/stores, so a row needs no scalar epilogue.
inline __mmask16 tail_mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

struct Avx512Row {
  static void fill(float* o, float v, size_t n) {
    const __m512 vv = _mm512_set1_ps(v);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(o + i, vv);
    if (i < n) _mm512_mask_storeu_ps(o + i, tail_mask(n - i), vv);
  }
  static void axpy(float* o, const float* x, float w, size_t n) {
    const __m512 wv = _mm512_set1_ps(w);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(o + i, _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + i), _mm512_loadu_ps(o + i)));
    if (i < n) {
      const __mmask16 m = tail_mask(n - i);
      const __m512 r = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, o + i));
      _mm512_mask_storeu_ps(o + i, m, r);
    }
  }
  static void relu(float* o, size_t n) {
    const __m512 z = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(o + i, _mm512_max_ps(z, _mm512_loadu_ps(o + i)));
    if (i < n) {
      const __mmask16 m = tail_mask(n - i);
      _mm512_mask_storeu_ps(o + i, m, _mm512_max_ps(z, _mm512_maskz_loadu_ps(m, o + i)));
    }
  }
};
}  // namespace

void depthwise_plane_avx512(const DwPlaneArgs& a) { dw_detail::depthwise_plane<Avx512Row>(a); }

}  // namespace simdcnn
#endif
