// AVX-512 row kernel (see ConvRowArgs): two 16-pixel vectors per step (four for up to 4 channels)
// and one accumulator per channel each (up to 16 zmm), so every weight broadcast feeds two (four)
// FMAs. LeNet-5's first layer (1 -> 6, 5x5, 28-pixel rows): 6 of a 7x32 tile's 32 lanes did useful
// work.
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

// NV 16-pixel vectors per step: 2 for 5-8 channels (16 accumulators), 4 for up to 4 channels so
// that they too keep 16 accumulators in flight (ResNeXt's 4-channel groups at 56x56: ~5% faster).
template <int OC, int NV>
void row_oc(const ConvRowArgs& a) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 clo = _mm512_set1_ps(a.lo), chi = _mm512_set1_ps(a.hi);
  for (size_t i = 0; i < a.n; i += 16 * NV) {
    const size_t left = a.n - i;
    __mmask16 m[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) m[v] = left > 16 * size_t(v) ? lanes(left - 16 * size_t(v)) : __mmask16(0);
    __m512 acc[NV][OC];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
#pragma GCC unroll 8
      for (int j = 0; j < OC; ++j) acc[v][j] = zero;
    const float* s = a.src + i;
    const float* b = a.b;
    for (size_t k = 0; k < a.kc; ++k, b += a.nr) {
      const float* p = s + a.offs[k];
      // Masked loads touch only the row's own pixels (the window of the last one ends in the input).
      __m512 x[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) x[v] = _mm512_maskz_loadu_ps(m[v], p + 16 * v);
#pragma GCC unroll 8
      for (int j = 0; j < OC; ++j) {
        const __m512 wj = _mm512_set1_ps(b[j]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[v][j] = _mm512_fmadd_ps(x[v], wj, acc[v][j]);
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < OC; ++j) {
      const __m512 bb = a.bias ? _mm512_set1_ps(a.bias[j]) : zero;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        if (!m[v]) continue;
        __m512 y = acc[v][j];
        if (a.bias) y = _mm512_add_ps(y, bb);
        if (a.residual) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m[v], a.residual + j * a.ohw + i + 16 * v));
        if (a.clamp) y = _mm512_min_ps(chi, _mm512_max_ps(clo, y));  // NaN kept: the second operand is returned
        _mm512_mask_storeu_ps(a.out + j * a.ohw + i + 16 * v, m[v], y);
      }
    }
  }
}

}  // namespace

void gather_even_avx512(float* dst, const float* src, size_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  size_t i = 0;
  // Full steps read src[2i .. 2i+32): in bounds (2i+31 <= 2n-2) while i + 16 < n.
  for (; i + 16 < n; i += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * i), b = _mm512_loadu_ps(src + 2 * i + 16);
    _mm512_storeu_ps(dst + i, _mm512_permutex2var_ps(a, even, b));
  }
  if (i < n) {  // the last 2(n-i)-1 floats, masked
    const size_t left = 2 * (n - i) - 1;
    const __mmask16 ma = lanes(left), mb = left > 16 ? lanes(left - 16) : __mmask16(0);
    const __m512 a = _mm512_maskz_loadu_ps(ma, src + 2 * i), b = _mm512_maskz_loadu_ps(mb, src + 2 * i + 16);
    _mm512_mask_storeu_ps(dst + i, lanes(n - i), _mm512_permutex2var_ps(a, even, b));
  }
}

void conv_packed_row_avx512(const ConvRowArgs& a) {
  with_row_channels(a.w, [&](auto oc) {
    constexpr int kOc = decltype(oc)::value;
    row_oc<kOc, (kOc <= 4 ? 4 : 2)>(a);
  });
}

}  // namespace simdcnn
#endif
