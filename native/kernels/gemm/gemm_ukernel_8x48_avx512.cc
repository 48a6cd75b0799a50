// 8x48 AVX-512 microkernel: 24 zmm accumulators + 3 B vectors; A is broadcast from memory
// (embedded broadcast), so 11 loads feed 24 FMAs per k. Zen 5 runs two 512-bit FMAs per cycle at
// latency 4, so 24 independent chains keep both pipes busy. MR = 8 divides the usual channel counts.
#include "kernels/gemm/gemm_ukernel.h"

#if SIMDCNN_X86
#include <immintrin.h>

// GCC 12 warns about its own AVX-512 intrinsics (the _mm512_undefined_ps self-init; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {

void gemm_ukernel_8x48_avx512(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                              const GemmTileParams& p) {
  __m512 c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
  __m512 c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
#define ROW_INIT(i)                                   \
  if (p.load_c) {                                     \
    c##i##0 = _mm512_loadu_ps(c + (i) * ldc);         \
    c##i##1 = _mm512_loadu_ps(c + (i) * ldc + 16);    \
    c##i##2 = _mm512_loadu_ps(c + (i) * ldc + 32);    \
  } else {                                            \
    c##i##0 = c##i##1 = c##i##2 = _mm512_setzero_ps(); \
  }
  ROW_INIT(0) ROW_INIT(1) ROW_INIT(2) ROW_INIT(3) ROW_INIT(4) ROW_INIT(5) ROW_INIT(6) ROW_INIT(7)
#undef ROW_INIT

#define ROW_FMA(i)                                   \
  {                                                  \
    const __m512 ai = _mm512_set1_ps(a[i]);          \
    c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);      \
    c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);      \
    c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);      \
  }
  for (size_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
    const __m512 b2 = _mm512_loadu_ps(b + 32);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * 48), _MM_HINT_T0);
    ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5) ROW_FMA(6) ROW_FMA(7)
    a += 8;
    b += 48;
  }
#undef ROW_FMA

  const __m512 clo = _mm512_set1_ps(p.lo), chi = _mm512_set1_ps(p.hi);  // the clamp
#define ROW_STORE(i)                                                               \
  if (p.last) {                                                                    \
    if (p.row_bias) {                                                              \
      const __m512 rb = _mm512_set1_ps(p.row_bias[i]);                             \
      c##i##0 = _mm512_add_ps(c##i##0, rb);                                        \
      c##i##1 = _mm512_add_ps(c##i##1, rb);                                        \
      c##i##2 = _mm512_add_ps(c##i##2, rb);                                        \
    }                                                                              \
    if (p.col_bias) {                                                              \
      c##i##0 = _mm512_add_ps(c##i##0, _mm512_loadu_ps(p.col_bias));               \
      c##i##1 = _mm512_add_ps(c##i##1, _mm512_loadu_ps(p.col_bias + 16));          \
      c##i##2 = _mm512_add_ps(c##i##2, _mm512_loadu_ps(p.col_bias + 32));          \
    }                                                                              \
    if (p.clamp) { /* NaN kept: the second operand is returned for NaN */        \
      c##i##0 = _mm512_min_ps(chi, _mm512_max_ps(clo, c##i##0));                                      \
      c##i##1 = _mm512_min_ps(chi, _mm512_max_ps(clo, c##i##1));                                      \
      c##i##2 = _mm512_min_ps(chi, _mm512_max_ps(clo, c##i##2));                                      \
    }                                                                              \
  }                                                                                \
  _mm512_storeu_ps(c + (i) * ldc, c##i##0);                                        \
  _mm512_storeu_ps(c + (i) * ldc + 16, c##i##1);                                   \
  _mm512_storeu_ps(c + (i) * ldc + 32, c##i##2);
  ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5) ROW_STORE(6)
  ROW_STORE(7)
#undef ROW_STORE
}

namespace {

// NV = 1 or 2 zmm columns of the 8x48 tile; B keeps its 48-float row stride. Same FMA order and
// epilogue per element as the full kernel, so a column's result does not depend on the tile width.
template <int NV>
void ukernel_8xnv(size_t kc, const float* a, const float* b, float* c, size_t ldc, const GemmTileParams& p) {
  __m512 acc[8][NV];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = p.load_c ? _mm512_loadu_ps(c + i * ldc + 16 * v) : _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += 8;
    b += 48;
  }
  const __m512 clo = _mm512_set1_ps(p.lo), chi = _mm512_set1_ps(p.hi);  // the clamp
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 r = acc[i][v];
      if (p.last) {
        if (p.row_bias) r = _mm512_add_ps(r, _mm512_set1_ps(p.row_bias[i]));
        if (p.col_bias) r = _mm512_add_ps(r, _mm512_loadu_ps(p.col_bias + 16 * v));
        if (p.clamp) r = _mm512_min_ps(chi, _mm512_max_ps(clo, r));
      }
      _mm512_storeu_ps(c + i * ldc + 16 * v, r);
    }
}

// As ukernel_8xnv with A rows read in place: eight row streams, one broadcast each per k. B rows
// are ldb floats apart: 48 for a packed panel, or the row stride of B itself (gemm's unpacked path).
// kPrefetch: also request B's lines kPrefetchAhead floats to the right of this tile, for the tiles
// that will read them next (B then streams from L2/L3 in rows no hardware prefetcher follows).
constexpr size_t kPrefetchAhead = 192;

template <int NV, bool kPrefetch>
void ukernel_8xnv_direct(size_t kc, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
                         const GemmTileParams& p) {
  const float* r[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = a + i * lda;
  __m512 acc[8][NV];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = p.load_c ? _mm512_loadu_ps(c + i * ldc + 16 * v) : _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
    if (kPrefetch) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchAhead + 16 * v), _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m512 ai = _mm512_set1_ps(r[i][k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    b += ldb;
  }
  const __m512 clo = _mm512_set1_ps(p.lo), chi = _mm512_set1_ps(p.hi);  // the clamp
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 x = acc[i][v];
      if (p.last) {
        if (p.row_bias) x = _mm512_add_ps(x, _mm512_set1_ps(p.row_bias[i]));
        if (p.col_bias) x = _mm512_add_ps(x, _mm512_loadu_ps(p.col_bias + 16 * v));
        if (p.clamp) x = _mm512_min_ps(chi, _mm512_max_ps(clo, x));
      }
      _mm512_storeu_ps(c + i * ldc + 16 * v, x);
    }
}

}  // namespace

void gemm_ukernel_8x48_avx512_direct(size_t cols, size_t kc, const float* a, size_t lda, const float* b,
                                     float* c, size_t ldc, const GemmTileParams& p) {
  if (cols <= 16)
    ukernel_8xnv_direct<1, false>(kc, a, lda, b, 48, c, ldc, p);
  else if (cols <= 32)
    ukernel_8xnv_direct<2, false>(kc, a, lda, b, 48, c, ldc, p);
  else
    ukernel_8xnv_direct<3, false>(kc, a, lda, b, 48, c, ldc, p);
}

void gemm_ukernel_8x48_avx512_unpacked(size_t kc, const float* a, size_t lda, const float* b, size_t ldb, bool prefetch,
                                       float* c, size_t ldc, const GemmTileParams& p) {
  if (prefetch)
    ukernel_8xnv_direct<3, true>(kc, a, lda, b, ldb, c, ldc, p);
  else
    ukernel_8xnv_direct<3, false>(kc, a, lda, b, ldb, c, ldc, p);
}

void gemm_ukernel_8x48_avx512_narrow(size_t cols, size_t kc, const float* a, const float* b, float* c,
                                     size_t ldc, const GemmTileParams& p) {
  if (cols <= 16)
    ukernel_8xnv<1>(kc, a, b, c, ldc, p);
  else
    ukernel_8xnv<2>(kc, a, b, c, ldc, p);
}

}  // namespace simdcnn
#endif
