// AVX2 row kernel (see ConvRowArgs): one 8-pixel vector per step and one accumulator per channel
// (up to 8 ymm, with the load and the broadcast 10 of 16 registers).
#include "kernels/conv/conv2d_packed_ukernel.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {

inline __m256i lanes(size_t n) {
  const int c = n >= 8 ? 8 : static_cast<int>(n);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <int OC>
void row_oc(const ConvRowArgs& a) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 clo = _mm256_set1_ps(a.lo), chi = _mm256_set1_ps(a.hi);
  for (size_t i = 0; i < a.n; i += 8) {
    const __m256i m = lanes(a.n - i);
    __m256 acc[OC];
#pragma GCC unroll 8
    for (int j = 0; j < OC; ++j) acc[j] = zero;
    const float* s = a.src + i;
    const float* b = a.b;
    for (size_t k = 0; k < a.kc; ++k, b += a.nr) {
      // Masked loads touch only the row's own pixels (the window of the last one ends in the input).
      const __m256 v = _mm256_maskload_ps(s + a.offs[k], m);
#pragma GCC unroll 8
      for (int j = 0; j < OC; ++j) acc[j] = _mm256_fmadd_ps(v, _mm256_broadcast_ss(b + j), acc[j]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < OC; ++j) {
      __m256 y = acc[j];
      if (a.bias) y = _mm256_add_ps(y, _mm256_broadcast_ss(a.bias + j));
      if (a.residual) y = _mm256_add_ps(y, _mm256_maskload_ps(a.residual + j * a.ohw + i, m));
      if (a.clamp) y = _mm256_min_ps(chi, _mm256_max_ps(clo, y));  // NaN kept: the second operand is returned
      _mm256_maskstore_ps(a.out + j * a.ohw + i, m, y);
    }
  }
}

}  // namespace

void gather_even_avx2(float* dst, const float* src, size_t n) {
  size_t i = 0;
  // Full steps read src[2i .. 2i+16): in bounds (2i+15 <= 2n-2) while i + 8 < n; the rest goes
  // element by element.
  for (; i + 8 < n; i += 8) {
    const __m256 a = _mm256_loadu_ps(src + 2 * i), b = _mm256_loadu_ps(src + 2 * i + 8);
    // [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88);
    _mm256_storeu_ps(dst + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
  }
  for (; i < n; ++i) dst[i] = src[2 * i];
}

void conv_packed_row_avx2(const ConvRowArgs& a) {
  with_row_channels(a.w, [&](auto oc) { row_oc<decltype(oc)::value>(a); });
}

}  // namespace simdcnn
#endif
