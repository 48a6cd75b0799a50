// 6x16 AVX2+FMA tile (6 pixels x 16 channels): 12 ymm accumulators + 2 weight vectors + 1
// broadcast = 15 of 16 registers; 8 loads feed 12 FMAs per k. An 8-channel variant serves the
// last panel when outC % 16 is 1..8.
#include "kernels/conv/conv2d_packed_ukernel.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {

constexpr size_t kMr = 6;
constexpr size_t kPrefetchK = 64;  // k steps ahead

template <int NV>
void tile_6xnv(const ConvTileArgs& a) {
  constexpr size_t nr = 8 * NV;
  const float* r[kMr];
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i) r[i] = a.rows[i];
  __m256 acc[kMr][NV];
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = a.first ? _mm256_setzero_ps() : _mm256_loadu_ps(a.acc + i * nr + 8 * v);
  const float* b = a.b;
  const int64_t* offs = a.offs;
  const float* pf = a.pf;
  for (size_t k = 0; k < a.kc; ++k, b += nr) {
    const int64_t o = offs[k];
    __m256 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + 8 * v);
    // One 64-byte line of weights per k at most: see the AVX-512 tile for why.
    _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchK * nr), _MM_HINT_T0);
    if (pf) _mm_prefetch(reinterpret_cast<const char*>(pf + 16 * k), _MM_HINT_T1);
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      const __m256 x = _mm256_broadcast_ss(r[i] + o);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(x, bv[v], acc[i][v]);
    }
  }
  if (!a.last) {
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) _mm256_storeu_ps(a.acc + i * nr + 8 * v, acc[i][v]);
    return;
  }
  // Epilogue: bias in the pixel-major layout (one vector per row), then transpose through a small
  // buffer to channel rows of h pixels for the residual, ReLU and the NCHW store.
  alignas(32) float t[nr][8];
  if (a.bias) {
    alignas(32) float bb[nr];
    for (size_t j = 0; j < nr; ++j) bb[j] = j < a.w ? a.bias[j] : 0.0f;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const __m256 bvec = _mm256_load_ps(bb + 8 * v);
#pragma GCC unroll 6
      for (size_t i = 0; i < kMr; ++i) acc[i][v] = _mm256_add_ps(acc[i][v], bvec);
    }
  }
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    const __m256 z = _mm256_setzero_ps();
    const __m256 t0 = _mm256_unpacklo_ps(acc[0][v], acc[1][v]), t1 = _mm256_unpackhi_ps(acc[0][v], acc[1][v]);
    const __m256 t2 = _mm256_unpacklo_ps(acc[2][v], acc[3][v]), t3 = _mm256_unpackhi_ps(acc[2][v], acc[3][v]);
    const __m256 t4 = _mm256_unpacklo_ps(acc[4][v], acc[5][v]), t5 = _mm256_unpackhi_ps(acc[4][v], acc[5][v]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
    float* d = t[8 * v];
    _mm256_store_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_store_ps(d + 8, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_store_ps(d + 16, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_store_ps(d + 24, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_store_ps(d + 32, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_store_ps(d + 40, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_store_ps(d + 48, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_store_ps(d + 56, _mm256_permute2f128_ps(u3, u7, 0x31));
  }
  const __m128 zero4 = _mm_setzero_ps();
  const __m128 clo4 = _mm_set1_ps(a.lo), chi4 = _mm_set1_ps(a.hi);
  for (size_t j = 0; j < a.w; ++j) {
    float* o = a.out + j * a.ohw;
    const float* res = a.residual ? a.residual + j * a.ohw : nullptr;
    if (a.h == kMr) {
      __m128 lo = _mm_load_ps(t[j]);
      __m128 hi = _mm_loadl_pi(zero4, reinterpret_cast<const __m64*>(t[j] + 4));
      if (res) {
        lo = _mm_add_ps(lo, _mm_loadu_ps(res));
        hi = _mm_add_ps(hi, _mm_loadl_pi(zero4, reinterpret_cast<const __m64*>(res + 4)));
      }
      if (a.clamp) {  // NaN kept: the second operand is returned for NaN
        lo = _mm_min_ps(chi4, _mm_max_ps(clo4, lo));
        hi = _mm_min_ps(chi4, _mm_max_ps(clo4, hi));
      }
      _mm_storeu_ps(o, lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(o + 4), hi);
    } else {
      for (size_t i = 0; i < a.h; ++i) {
        float v = t[j][i];
        if (res) v += res[i];
        if (a.clamp) {
          if (a.lo > v) v = a.lo;
          if (a.hi < v) v = a.hi;
        }
        o[i] = v;
      }
    }
  }
}

}  // namespace

void conv_packed_tile_6x16_avx2(const ConvTileArgs& a) {
  if (a.nr <= 8)
    tile_6xnv<1>(a);
  else
    tile_6xnv<2>(a);
}

}  // namespace simdcnn
#endif
