#include "kernels/conv/depthwise_impl.h"

#if SIMDCNN_X86
#include <immintrin.h>

// GCC 12 warns about its own AVX-512 intrinsics (the _mm512_undefined_ps self-init; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {
namespace {
struct Avx512Vec {
  static constexpr int64_t kWidth = 16;
  using Vec = __m512;
  static Vec set1(float v) { return _mm512_set1_ps(v); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load_s2(const float* p) {  // even elements of p[0..32)
    const __m512i idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16));
  }
  // load_s2 of the first n floats at p only (others read as 0; nothing past them is touched).
  static Vec load_s2_n(const float* p, int64_t n) {
    const __m512i idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const int64_t n0 = n < 0 ? 0 : n > 16 ? 16 : n, n1 = n < 16 ? 0 : n > 32 ? 16 : n - 16;
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lanes(n0), p), idx, _mm512_maskz_loadu_ps(lanes(n1), p + 16));
  }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static __mmask16 lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static Vec load_n(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(lanes(n), p); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
  static void store_n(float* p, Vec v, int64_t n) { _mm512_mask_storeu_ps(p, lanes(n), v); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  using M = __mmask16;  // lanes [lo, hi) of one vector (mask2 is two of them)
  static M mask(int64_t lo, int64_t hi) {
    lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
    hi = hi < lo ? lo : hi > 16 ? 16 : hi;
    return static_cast<M>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  }
  static Vec load_m(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  struct M2 {
    __mmask16 a, b;
  };
  static M2 mask2(int64_t lo, int64_t hi) { return M2{mask(lo, hi), mask(lo - 16, hi - 16)}; }
  static Vec load_s2_m(const float* p, M2 m) {
    const __m512i idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m.a, p), idx, _mm512_maskz_loadu_ps(m.b, p + 16));
  }
  struct P {  // lane i <- lane idx[i] where m has it, else 0
    __m512i idx;
    __mmask16 m;
  };
  // Lanes idx >= 16 select from the second vector (permute2).
  static P perm(int64_t S, int64_t off, int64_t W, int64_t n) {
    alignas(64) int32_t idx[16];
    unsigned m = 0;
    for (int64_t i = 0; i < 16; ++i) {
      const int64_t col = S * i + off;
      const bool in = col >= 0 && col < W && i < n;
      idx[i] = in ? static_cast<int32_t>(col) : 0;
      if (in) m |= 1u << i;
    }
    return P{_mm512_load_si512(idx), static_cast<__mmask16>(m)};
  }
  static Vec permute(Vec v, const P& p) { return _mm512_maskz_permutexvar_ps(p.m, p.idx, v); }
  static Vec permute2(Vec lo, Vec hi, const P& p) { return _mm512_maskz_permutex2var_ps(p.m, lo, p.idx, hi); }
};
}  // namespace

void depthwise_planes_avx512(const DwArgs& a, size_t t0, size_t t1, float* scratch) {
  dw_detail::depthwise_planes<Avx512Vec>(a, t0, t1, scratch);
}

}  // namespace simdcnn
#endif
