// AVX-512 row kernel (see ConvRowArgs): two 16-pixel vectors per step and one accumulator per
// channel each (up to 16 zmm), so every weight broadcast feeds two FMAs. LeNet-5's first layer
// (1 -> 6, 5x5, 28-pixel rows): 6 of a 7x32 tile's 32 lanes did useful work.
#include "kernels/conv/conv2d_packed_ukernel.h"

#if SIMDCNN_X86
#include <immintrin.h>

#include <algorithm>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {
namespace {

inline __mmask16 lanes(size_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }

template <int OC>
void row_oc(const ConvRowArgs& a) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 clo = _mm512_set1_ps(a.lo), chi = _mm512_set1_ps(a.hi);
  for (size_t i = 0; i < a.n; i += 32) {
    const size_t left = a.n - i;
    const __mmask16 m0 = lanes(left), m1 = left > 16 ? lanes(left - 16) : __mmask16(0);
    __m512 acc0[OC], acc1[OC];
#pragma GCC unroll 8
    for (int j = 0; j < OC; ++j) acc0[j] = acc1[j] = zero;
    const float* s = a.src + i;
    const float* b = a.b;
    for (size_t k = 0; k < a.kc; ++k, b += a.nr) {
      const float* p = s + a.offs[k];
      // Masked loads touch only the row's own pixels (the window of the last one ends in the input).
      const __m512 v0 = _mm512_maskz_loadu_ps(m0, p), v1 = _mm512_maskz_loadu_ps(m1, p + 16);
#pragma GCC unroll 8
      for (int j = 0; j < OC; ++j) {
        const __m512 wj = _mm512_set1_ps(b[j]);
        acc0[j] = _mm512_fmadd_ps(v0, wj, acc0[j]);
        acc1[j] = _mm512_fmadd_ps(v1, wj, acc1[j]);
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < OC; ++j) {
      __m512 y0 = acc0[j], y1 = acc1[j];
      if (a.bias) {
        const __m512 bb = _mm512_set1_ps(a.bias[j]);
        y0 = _mm512_add_ps(y0, bb);
        y1 = _mm512_add_ps(y1, bb);
      }
      if (a.residual) {
        const float* r = a.residual + j * a.ohw + i;
        y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, r));
        y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, r + 16));
      }
      if (a.clamp) {  // NaN kept: the second operand is returned
        y0 = _mm512_min_ps(chi, _mm512_max_ps(clo, y0));
        y1 = _mm512_min_ps(chi, _mm512_max_ps(clo, y1));
      }
      float* o = a.out + j * a.ohw + i;
      _mm512_mask_storeu_ps(o, m0, y0);
      _mm512_mask_storeu_ps(o + 16, m1, y1);
    }
  }
}

}  // namespace

void conv_packed_row_avx512(const ConvRowArgs& a) {
  with_row_channels(a.w, [&](auto oc) { row_oc<decltype(oc)::value>(a); });
}

}  // namespace simdcnn
#endif
