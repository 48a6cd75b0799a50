// 7x32 AVX-512 tile (7 pixels x 32 channels): 14 zmm accumulators + 2 weight vectors + 1
// broadcast; per k 2 vector loads and 7 broadcasts feed 14 FMAs. Measured on Zen 5 from L1 (one
// core, peak ~200 GFLOP/s): 7x32 ~200; 7x64 with each pixel value broadcast inside its FMA (the
// only way to fit 28 accumulators + 4 weight vectors in 32 registers) ~135, as FMAs with a memory
// operand are slow there; 7x16 and 14x16 (one FMA per broadcast) ~115-140. So two FMAs per
// broadcast, in registers. 7 divides every ResNet map size (112^2 .. 7^2) and 32 every channel
// count, so those layers have no tails; a 16-channel variant serves outC tails.
#include "kernels/conv/conv2d_packed_ukernel.h"

#if SIMDCNN_X86
#include <immintrin.h>

#include <cstdint>

// GCC 12 warns about its own AVX-512 intrinsics (the _mm512_undefined_ps self-init; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {
namespace {

constexpr int kMr = 7;
constexpr size_t kPrefetchK = 48;  // k steps ahead (measured: 32-64 alike, 128+ worse)

// p - 8 floats. Masked accesses only touch enabled lanes, so lanes [8, 16) of a vector stored
// there land at p[0..8) and nothing before p is touched (p - 8 may lie before the buffer); the
// arithmetic goes through an integer to stay defined.
inline float* back8(float* p) { return reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(p) - 8 * sizeof(float)); }
inline const float* back8(const float* p) {
  return reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) - 8 * sizeof(float));
}

template <int NV>
void tile_7xnv(const ConvTileArgs& a) {
  constexpr size_t nr = 16 * NV;
  const float* r[kMr];
#pragma GCC unroll 7
  for (int i = 0; i < kMr; ++i) r[i] = a.rows[i];
  __m512 acc[kMr][NV];
#pragma GCC unroll 7
  for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = a.first ? _mm512_setzero_ps() : _mm512_loadu_ps(a.acc + i * nr + 16 * v);
  const float* b = a.b;
  const int64_t* offs = a.offs;
  const float* pf = a.pf;
  for (size_t k = 0, kc = a.kc; k < kc; ++k, b += nr) {
    const int64_t o = offs[k];
    __m512 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
    // Weights stream from L2/L3 for the first tile of a block (late layers: megabytes of weights,
    // 7 tiles per map); the hardware prefetcher alone leaves those tiles stalling. Prefetching
    // past the block's end is harmless (never faults) and warms the next block.
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchK * nr + 16 * v), _MM_HINT_T0);
    if (pf) _mm_prefetch(reinterpret_cast<const char*>(pf + 16 * k), _MM_HINT_T1);
#pragma GCC unroll 7
    for (int i = 0; i < kMr; ++i) {
      const __m512 x = _mm512_set1_ps(r[i][o]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(x, bv[v], acc[i][v]);
    }
  }
  if (!a.last) {
#pragma GCC unroll 7
    for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) _mm512_storeu_ps(a.acc + i * nr + 16 * v, acc[i][v]);
    return;
  }

  // Epilogue. Bias is per channel = per lane here, so it goes in before the transpose.
  const size_t w = a.w;
  if (a.bias) {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      const size_t left = w > 16 * size_t(v) ? w - 16 * size_t(v) : 0;
      if (left == 0) continue;
      const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
      const __m512 bb = _mm512_maskz_loadu_ps(m, a.bias + 16 * v);
#pragma GCC unroll 7
      for (int i = 0; i < kMr; ++i) acc[i][v] = _mm512_add_ps(acc[i][v], bb);
    }
  }
  // Transpose each 7 (+1 zero row) x 16 block into 8 vectors of two channels x 8 pixels:
  // [channel q | channel q+4] and [channel q+8 | channel q+12], q = 0..3; each half is one
  // masked store of h pixels into its channel's row.
  const __m512i idx_lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i idx_hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  const __m512 zero = _mm512_setzero_ps();
  const __m512 clo = _mm512_set1_ps(a.lo), chi = _mm512_set1_ps(a.hi);
  const __mmask16 hm = static_cast<__mmask16>((1u << a.h) - 1u);
  const size_t ohw = a.ohw;
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    const __m512 t0 = _mm512_unpacklo_ps(acc[0][v], acc[1][v]), t1 = _mm512_unpackhi_ps(acc[0][v], acc[1][v]);
    const __m512 t2 = _mm512_unpacklo_ps(acc[2][v], acc[3][v]), t3 = _mm512_unpackhi_ps(acc[2][v], acc[3][v]);
    const __m512 t4 = _mm512_unpacklo_ps(acc[4][v], acc[5][v]), t5 = _mm512_unpackhi_ps(acc[4][v], acc[5][v]);
    const __m512 t6 = _mm512_unpacklo_ps(acc[6][v], zero), t7 = _mm512_unpackhi_ps(acc[6][v], zero);
    __m512 u[8];
    u[0] = _mm512_shuffle_ps(t0, t2, 0x44);  // per 128-bit lane L: channel 4L, pixels 0-3
    u[1] = _mm512_shuffle_ps(t0, t2, 0xEE);  // channel 4L+1
    u[2] = _mm512_shuffle_ps(t1, t3, 0x44);
    u[3] = _mm512_shuffle_ps(t1, t3, 0xEE);
    u[4] = _mm512_shuffle_ps(t4, t6, 0x44);  // channel 4L, pixels 4-7
    u[5] = _mm512_shuffle_ps(t4, t6, 0xEE);
    u[6] = _mm512_shuffle_ps(t5, t7, 0x44);
    u[7] = _mm512_shuffle_ps(t5, t7, 0xEE);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
#pragma GCC unroll 2
      for (int half = 0; half < 2; ++half) {
        __m512 y = _mm512_permutex2var_ps(u[q], half ? idx_hi : idx_lo, u[q + 4]);
        const size_t ca = 16 * size_t(v) + 8 * size_t(half) + size_t(q), cb = ca + 4;
        if (ca >= w) continue;  // then cb >= w too
        const __mmask16 mb = cb < w ? static_cast<__mmask16>(hm << 8) : __mmask16(0);
        if (a.residual) {
          __m512 r = _mm512_maskz_loadu_ps(hm, a.residual + ca * ohw);
          if (mb) r = _mm512_mask_loadu_ps(r, mb, back8(a.residual + cb * ohw));
          y = _mm512_add_ps(y, r);
        }
        if (a.clamp) y = _mm512_min_ps(chi, _mm512_max_ps(clo, y));  // NaN kept: the second operand is returned
        _mm512_mask_storeu_ps(a.out + ca * ohw, hm, y);
        if (mb) _mm512_mask_storeu_ps(back8(a.out + cb * ohw), mb, y);
      }
    }
  }
}

}  // namespace

void conv_packed_tile_7x32_avx512(const ConvTileArgs& a) {
  if (a.nr <= 16)
    tile_7xnv<1>(a);
  else
    tile_7xnv<2>(a);
}

}  // namespace simdcnn
#endif
