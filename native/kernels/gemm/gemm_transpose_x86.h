// 8x8 float transpose with AVX2, shared by the avx2 and avx512 packing files. Everything here has
// internal linkage: each including file gets its own copy compiled with its own ISA flags (an
// inline function with external linkage could be merged into the AVX-512 build and then run on
// an AVX2-only CPU).
#pragma once
#include <cstddef>

#include "core/arch.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {

// dst[k*ldd + j] = src[j*ld + k] for j, k < 8.
inline void transpose8x8(const float* src, size_t ld, float* dst, size_t ldd) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld);
  const __m256 r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld);
  const __m256 r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld);
  const __m256 r6 = _mm256_loadu_ps(src + 6 * ld), r7 = _mm256_loadu_ps(src + 7 * ld);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// gemm_copy_cols with 8x8 blocks; the k and j remainders element by element.
inline void copy_cols_8x8(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst) {
  size_t j0 = 0;
  for (; j0 + 8 <= w; j0 += 8) {
    size_t k = 0;
    for (; k + 8 <= kc; k += 8) transpose8x8(src + j0 * ld + k, ld, dst + k * nr + j0, nr);
    for (; k < kc; ++k)
      for (size_t j = j0; j < j0 + 8; ++j) dst[k * nr + j] = src[j * ld + k];
  }
  for (size_t j = j0; j < w; ++j)
    for (size_t k = 0; k < kc; ++k) dst[k * nr + j] = src[j * ld + k];
  if (w < nr)
    for (size_t k = 0; k < kc; ++k)
      for (size_t j = w; j < nr; ++j) dst[k * nr + j] = 0.0f;
}

}  // namespace
}  // namespace simdcnn
#endif
