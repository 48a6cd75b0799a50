// The Winograd F(4x4,3x3) and F(2x2,3x3) input and output transforms written once over a Vec (elementwise/vec.h)
// and a Shuf (the two data movements that need ISA shuffles); instantiated by winograd_<isa>.cc.
//
// Vectors run across W consecutive tiles of one tile row. The input transform applies B^T down the
// columns of the tile row's 6-row input strip (contiguous loads; padding read as zeros), then
// deinterleaves each resulting row (lane l of tap s is row[4l + s]) and applies B^T along it. The
// output transform applies A^T down the columns, then along the rows, and interleaves the four
// results of each tile back into output rows. Every lane does the same arithmetic, so a tile's
// result does not depend on where its chunk, block or thread's range starts.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/conv/winograd.h"
#include "kernels/elementwise/vec.h"

namespace simdcnn {
namespace winograd_impl {
// Internal linkage: compiled once per ISA with different -m flags (see elementwise/vec.h).
namespace {

// Tiles per row segment: bounds the strip so it lives on the stack (and in L1).
constexpr size_t kSegTiles = 64;
// Strip row of one segment: 4 floats per tile, the 2-float overhang of the last tile, and a vector
// of slack (the passes read and write whole vectors).
constexpr size_t kRowStride = 4 * (kSegTiles + 16) + 16;

// load_window(src, first, count): lanes [first, first + count) = src[0, count), the others zero
// (1 <= count, first + count <= W; reads only src[0, count)).
// load_taps(p, d): d[s] lane l = p[4l + s], s = 0..5 (reads p[0, 4W + 2)).
// interleave4(y, o): o[q] lane l = element q*W + l of the sequence y[0][0], y[1][0], y[2][0],
// y[3][0], y[0][1], ... (the four outputs of each tile side by side).
struct ShufScalar {
  using V = float;
  static V load_window(const float* src, int first, int count) { return count > 0 ? src[0] : 0.0f; }
  static void load_taps(const float* p, V d[6]) {
    for (int s = 0; s < 6; ++s) d[s] = p[s];
  }
  static void interleave4(const V y[4], V o[4]) {
    for (int q = 0; q < 4; ++q) o[q] = y[q];
  }
  static void interleave2(const V y[2], V o[2]) {
    o[0] = y[0];
    o[1] = y[1];
  }
};

#if defined(__AVX2__) && defined(__FMA__)
struct ShufAvx2 {
  using V = __m256;
  static V load_window(const float* src, int first, int count) {
    // Lanes >= count load as zero and the rotation brings zeros into lanes < first.
    const __m256 v = _mm256_maskload_ps(
        src, _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    return _mm256_permutevar8x32_ps(
        v, _mm256_sub_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(first)));
  }
  static void load_taps(const float* p, V d[6]) {
    const __m256 a0 = _mm256_loadu_ps(p), a1 = _mm256_loadu_ps(p + 8);
    const __m256 a2 = _mm256_loadu_ps(p + 16), a3 = _mm256_loadu_ps(p + 24);
    // Tiles t_l = p[4l, 4l+4): x0 = [t0|t4], x1 = [t1|t5], x2 = [t2|t6], x3 = [t3|t7], then a 4x4
    // transpose inside each 128-bit half.
    const __m256 x0 = _mm256_permute2f128_ps(a0, a2, 0x20), x1 = _mm256_permute2f128_ps(a0, a2, 0x31);
    const __m256 x2 = _mm256_permute2f128_ps(a1, a3, 0x20), x3 = _mm256_permute2f128_ps(a1, a3, 0x31);
    const __m256d u0 = _mm256_castps_pd(_mm256_unpacklo_ps(x0, x1));
    const __m256d u1 = _mm256_castps_pd(_mm256_unpackhi_ps(x0, x1));
    const __m256d u2 = _mm256_castps_pd(_mm256_unpacklo_ps(x2, x3));
    const __m256d u3 = _mm256_castps_pd(_mm256_unpackhi_ps(x2, x3));
    d[0] = _mm256_castpd_ps(_mm256_unpacklo_pd(u0, u2));
    d[1] = _mm256_castpd_ps(_mm256_unpackhi_pd(u0, u2));
    d[2] = _mm256_castpd_ps(_mm256_unpacklo_pd(u1, u3));
    d[3] = _mm256_castpd_ps(_mm256_unpackhi_pd(u1, u3));
    // Taps 4 and 5 are taps 0 and 1 of the next tile: rotate one lane, the last from p[32], p[33].
    const __m256i rot = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    d[4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[0], rot), _mm256_broadcast_ss(p + 32), 0x80);
    d[5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[1], rot), _mm256_broadcast_ss(p + 33), 0x80);
  }
  static void interleave4(const V y[4], V o[4]) {
    const __m256d u0 = _mm256_castps_pd(_mm256_unpacklo_ps(y[0], y[1]));
    const __m256d u1 = _mm256_castps_pd(_mm256_unpackhi_ps(y[0], y[1]));
    const __m256d u2 = _mm256_castps_pd(_mm256_unpacklo_ps(y[2], y[3]));
    const __m256d u3 = _mm256_castps_pd(_mm256_unpackhi_ps(y[2], y[3]));
    const __m256 v0 = _mm256_castpd_ps(_mm256_unpacklo_pd(u0, u2));  // [t0|t4]
    const __m256 v1 = _mm256_castpd_ps(_mm256_unpackhi_pd(u0, u2));  // [t1|t5]
    const __m256 v2 = _mm256_castpd_ps(_mm256_unpacklo_pd(u1, u3));  // [t2|t6]
    const __m256 v3 = _mm256_castpd_ps(_mm256_unpackhi_pd(u1, u3));  // [t3|t7]
    o[0] = _mm256_permute2f128_ps(v0, v1, 0x20);
    o[1] = _mm256_permute2f128_ps(v2, v3, 0x20);
    o[2] = _mm256_permute2f128_ps(v0, v1, 0x31);
    o[3] = _mm256_permute2f128_ps(v2, v3, 0x31);
  }
  // o[q] lane l = element q*W + l of y[0][0], y[1][0], y[0][1], y[1][1], ...
  static void interleave2(const V y[2], V o[2]) {
    const __m256 lo = _mm256_unpacklo_ps(y[0], y[1]), hi = _mm256_unpackhi_ps(y[0], y[1]);
    o[0] = _mm256_permute2f128_ps(lo, hi, 0x20);
    o[1] = _mm256_permute2f128_ps(lo, hi, 0x31);
  }
};
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
struct ShufNeon {
  using V = float32x4_t;
  static V load_window(const float* src, int first, int count) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < count; ++i) t[first + i] = src[i];
    return vld1q_f32(t);
  }
  static void load_taps(const float* p, V d[6]) {
    // LD4 is exactly the deinterleave: val[s] lane l = p[4l + s].
    const float32x4x4_t t = vld4q_f32(p);
    d[0] = t.val[0];
    d[1] = t.val[1];
    d[2] = t.val[2];
    d[3] = t.val[3];
    // Taps 4 and 5 are taps 0 and 1 of the next tile: shift one lane in, the last from p[16], p[17].
    d[4] = vextq_f32(d[0], vdupq_n_f32(p[16]), 1);
    d[5] = vextq_f32(d[1], vdupq_n_f32(p[17]), 1);
  }
  // A 4x4 transpose: o[q] = (y0[q], y1[q], y2[q], y3[q]).
  static void interleave4(const V y[4], V o[4]) {
    const float32x4_t t0 = vtrn1q_f32(y[0], y[1]), t1 = vtrn2q_f32(y[0], y[1]);
    const float32x4_t t2 = vtrn1q_f32(y[2], y[3]), t3 = vtrn2q_f32(y[2], y[3]);
    o[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    o[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    o[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    o[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
  }
  static void interleave2(const V y[2], V o[2]) {
    o[0] = vzip1q_f32(y[0], y[1]);
    o[1] = vzip2q_f32(y[0], y[1]);
  }
};
#endif

#if defined(__AVX512F__)
struct ShufAvx512 {
  using V = __m512;
  static V load_window(const float* src, int first, int count) {
    return _mm512_maskz_expandloadu_ps(static_cast<__mmask16>(((1u << count) - 1u) << first), src);
  }
  static void load_taps(const float* p, V d[6]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 a0 = _mm512_loadu_ps(p), a1 = _mm512_loadu_ps(p + 16);
    const __m512 a2 = _mm512_loadu_ps(p + 32), a3 = _mm512_loadu_ps(p + 48);
    const __m512 b0 = _mm512_permutex2var_ps(a0, even, a1);  // p[0, 2, .., 30]
    const __m512 b1 = _mm512_permutex2var_ps(a0, odd, a1);   // p[1, 3, .., 31]
    const __m512 b2 = _mm512_permutex2var_ps(a2, even, a3);  // p[32, 34, .., 62]
    const __m512 b3 = _mm512_permutex2var_ps(a2, odd, a3);   // p[33, 35, .., 63]
    d[0] = _mm512_permutex2var_ps(b0, even, b2);
    d[1] = _mm512_permutex2var_ps(b1, even, b3);
    d[2] = _mm512_permutex2var_ps(b0, odd, b2);
    d[3] = _mm512_permutex2var_ps(b1, odd, b3);
    // Taps 4 and 5 are taps 0 and 1 of the next tile: shift one lane in, the last from p[64], p[65].
    d[4] = _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(_mm512_set1_ps(p[64])), _mm512_castps_si512(d[0]), 1));
    d[5] = _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(_mm512_set1_ps(p[65])), _mm512_castps_si512(d[1]), 1));
  }
  static void interleave4(const V y[4], V o[4]) {
    const __m512i zip_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i zip_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i pair_lo = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const __m512i pair_hi = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    const __m512 lo01 = _mm512_permutex2var_ps(y[0], zip_lo, y[1]);  // y0[0] y1[0] .. y0[7] y1[7]
    const __m512 hi01 = _mm512_permutex2var_ps(y[0], zip_hi, y[1]);
    const __m512 lo23 = _mm512_permutex2var_ps(y[2], zip_lo, y[3]);
    const __m512 hi23 = _mm512_permutex2var_ps(y[2], zip_hi, y[3]);
    o[0] = _mm512_permutex2var_ps(lo01, pair_lo, lo23);  // tiles 0..3
    o[1] = _mm512_permutex2var_ps(lo01, pair_hi, lo23);  // tiles 4..7
    o[2] = _mm512_permutex2var_ps(hi01, pair_lo, hi23);
    o[3] = _mm512_permutex2var_ps(hi01, pair_hi, hi23);
  }
  static void interleave2(const V y[2], V o[2]) {
    const __m512i zip_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i zip_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    o[0] = _mm512_permutex2var_ps(y[0], zip_lo, y[1]);
    o[1] = _mm512_permutex2var_ps(y[0], zip_hi, y[1]);
  }
};
#endif

// o = B^T d (see winograd.h), 16 operations.
template <class Vec>
inline void bt6(const typename Vec::V d[6], typename Vec::V o[6]) {
  using V = typename Vec::V;
  const V t = Vec::sub(d[3], d[1]);
  const V u = Vec::sub(d[4], d[2]);
  o[0] = Vec::fmadd(Vec::set1(1.5f), t, Vec::fmadd(Vec::set1(-2.0f), d[2], Vec::add(d[0], d[4])));
  o[1] = Vec::fmadd(Vec::set1(2.5f), d[3], Vec::fmadd(Vec::set1(0.5f), d[2], Vec::sub(d[4], d[1])));
  o[2] = Vec::fmadd(Vec::set1(0.5f), d[3], Vec::fmadd(Vec::set1(-2.5f), d[2], Vec::add(d[4], d[1])));
  o[3] = Vec::fmadd(Vec::set1(2.0f), t, u);
  o[4] = Vec::fmadd(Vec::set1(-0.5f), t, u);
  o[5] = Vec::fmadd(Vec::set1(1.5f), u, Vec::fmadd(Vec::set1(-2.0f), d[3], Vec::add(d[1], d[5])));
}

// y = A^T m, 12 operations.
template <class Vec>
inline void at4(const typename Vec::V m[6], typename Vec::V y[4]) {
  using V = typename Vec::V;
  const V p = Vec::add(m[1], m[2]);
  const V q = Vec::sub(m[1], m[2]);
  y[0] = Vec::add(Vec::add(m[0], p), Vec::add(m[3], m[4]));
  y[1] = Vec::fmadd(Vec::set1(0.5f), m[3], Vec::fmadd(Vec::set1(-2.0f), m[4], q));
  y[2] = Vec::fmadd(Vec::set1(0.25f), m[3], Vec::fmadd(Vec::set1(4.0f), m[4], p));
  y[3] = Vec::fmadd(Vec::set1(0.125f), m[3], Vec::fmadd(Vec::set1(-8.0f), m[4], Vec::add(q, m[5])));
}

// ---- F(2x2, 3x3): 4x4 input tiles at stride 2, B^T, G, A^T of Lavin & Gray (points 0, 1, -1) ----
//
//   B^T = [ 1  0 -1  0 ]   G = [   1    0    0 ]   A^T = [ 1  1  1  0 ]
//         [ 0  1  1  0 ]       [ 1/2  1/2  1/2 ]         [ 0  1 -1 -1 ]
//         [ 0 -1  1  0 ]       [ 1/2 -1/2  1/2 ]
//         [ 0  1  0 -1 ]       [   0    0    1 ]
// Exact in float but for the 1/2s of G (applied once, to the weights): about as accurate as the
// direct convolution, for 2.25x fewer multiplies (16 per tile and channel instead of 36).

template <class Vec>
inline void bt4(const typename Vec::V d[4], typename Vec::V o[4]) {
  o[0] = Vec::sub(d[0], d[2]);
  o[1] = Vec::add(d[1], d[2]);
  o[2] = Vec::sub(d[2], d[1]);
  o[3] = Vec::sub(d[1], d[3]);
}

template <class Vec>
inline void at2(const typename Vec::V m[4], typename Vec::V y[2]) {
  y[0] = Vec::add(Vec::add(m[0], m[1]), m[2]);
  y[1] = Vec::sub(Vec::sub(m[1], m[2]), m[3]);
}

// Calls f(ti, tj0, tj1, offset of (ti, tj0) from t0) for each piece of [t0, t1) that lies in one
// tile row and spans at most kSegTiles tiles.
template <class F>
inline void for_each_segment(size_t t0, size_t t1, size_t TW, F&& f) {
  for (size_t t = t0; t < t1;) {
    const size_t ti = t / TW, tj0 = t % TW;
    const size_t tj1 = std::min({TW, tj0 + kSegTiles, tj0 + (t1 - t)});
    f(ti, tj0, tj1, t - t0);
    t += tj1 - tj0;
  }
}

// V[6i + j][tile] for the chunk's tiles from the strip rows wrows (row stride kRowStride) at
// strip column col; dst points at V[0][c][first tile], planes ve apart. n < W: only n tiles stored.
template <class Vec, class Sh, bool kFull>
inline void input_horizontal(const float* wrows, size_t col, float* dst, size_t ve, int n) {
  using V = typename Vec::V;
  for (int i = 0; i < 6; ++i) {
    V d[6], o[6];
    Sh::load_taps(wrows + i * kRowStride + col, d);
    bt6<Vec>(d, o);
    for (int j = 0; j < 6; ++j, dst += ve) {
      if (kFull)
        Vec::store(dst, o[j]);
      else
        Vec::store_n(dst, o[j], n);
    }
  }
}

// F(2x2): the four taps of each tile's strip row (lane l of tap s is row[2l + s]) as the even
// lanes of vectors starting at s, then B^T along them; V[4i + j] of n (<= W) tiles to dst.
template <class Vec, bool kFull>
inline void input_horizontal2(const float* wrows, size_t col, float* dst, size_t ve, int n) {
  using V = typename Vec::V;
  for (int i = 0; i < 4; ++i) {
    const float* row = wrows + i * kRowStride + col;
    V d[4], o[4];
    for (int s = 0; s < 4; ++s) d[s] = Vec::load_even(row + s);
    bt4<Vec>(d, o);
    for (int j = 0; j < 4; ++j, dst += ve) {
      if (kFull)
        Vec::store(dst, o[j]);
      else
        Vec::store_n(dst, o[j], n);
    }
  }
}

// The input transform of F(Mx M, 3x3) (M = 4 or 2, R = M + 2 input rows and columns per tile).
// Channel-major loops (each channel's tiles in order, then the next channel) keep every one of the
// R*R V planes streaming sequentially, which the hardware prefetchers follow; tile-row-major loops
// jump a whole channel row per step (measured up to 1.7x slower).
template <class Vec, class Sh, int M>
void input_transform_t(const WinogradInArgs& a) {
  using V = typename Vec::V;
  constexpr int64_t W = Vec::W;
  constexpr int R = M + 2;
  // wrows[i]: strip row i of B^T d along the columns, for the segment's M*tiles + 2 padded columns.
  // Written and read in the same aligned W-float vectors, so every load of the horizontal pass is
  // forwarded from one store (misaligned pairs would stall until the stores retire).
  alignas(64) float wrows[R][kRowStride];
  // Rows above or below the image read this instead (no branch per row in the inner loop).
  alignas(64) float zero_row[kRowStride];
  std::memset(zero_row, 0, sizeof zero_row);
  const int64_t H = static_cast<int64_t>(a.H), Wd = static_cast<int64_t>(a.W);
  const size_t ve = a.ve, ldv = a.ldv, plane = a.H * a.W;
  for (size_t c = a.c0; c < a.c1; ++c) {
    const float* xc = a.x + c * plane;
    float* vc = a.V + c * ldv;
    for_each_segment(a.t0, a.t1, a.TW, [&](size_t ti, size_t tj0, size_t tj1, size_t toff) {
      const size_t seg = tj1 - tj0, nch = (seg + W - 1) / W;
      // Strip columns the chunks read: F(4x4) deinterleaves 4W + 2 per chunk, F(2x2)'s taps 2 and
      // 3 read even lanes up to 2W + 1 past a chunk's start.
      const int64_t len = static_cast<int64_t>(M * nch * W + 2);
      const int64_t x_begin = static_cast<int64_t>(M * tj0) - static_cast<int64_t>(a.padLeft);
      // Strip columns [lo, hi) come from the image; the rest are padding (or past the last tile).
      const int64_t lo = std::min(len, std::max<int64_t>(0, -x_begin));
      const int64_t hi = std::max(lo, std::min(len, Wd - x_begin));
      // Row r of strip column k (in [lo, hi)) is src[r][k - lo].
      const float* src[R];
      for (int r = 0; r < R; ++r) {
        const int64_t y = static_cast<int64_t>(M * ti + r) - static_cast<int64_t>(a.padTop);
        src[r] = y >= 0 && y < H && lo < hi ? xc + (y * Wd + x_begin + lo) : zero_row;
      }
      // Vectors wholly outside [lo, hi) are zero.
      const int64_t k_lo = lo / W * W, k_hi = std::min(len, hi);
      for (int64_t k = 0; k < len; k += W)
        if (k + W <= lo || k >= hi)
          for (int i = 0; i < R; ++i) Vec::store(wrows[i] + k, Vec::zero());
      for (int64_t k = k_lo; k < k_hi; k += W) {
        V d[R], o[R];
        if (k >= lo && k + W <= hi) {
          for (int r = 0; r < R; ++r) d[r] = Vec::load(src[r] + (k - lo));
        } else {
          const int64_t b = std::max(k, lo), e = std::min(k + W, hi);  // image columns of this vector
          for (int r = 0; r < R; ++r)
            d[r] = e > b ? Sh::load_window(src[r] + (b - lo), static_cast<int>(b - k), static_cast<int>(e - b))
                         : Vec::zero();
        }
        if constexpr (M == 4)
          bt6<Vec>(d, o);
        else
          bt4<Vec>(d, o);
        for (int i = 0; i < R; ++i) Vec::store(wrows[i] + k, o[i]);
      }
      for (size_t ch = 0; ch < nch; ++ch) {
        const int n = static_cast<int>(std::min<size_t>(W, seg - ch * W));
        float* dst = vc + toff + ch * W;
        const bool full = n == static_cast<int>(W);
        if constexpr (M == 4) {
          if (full)
            input_horizontal<Vec, Sh, true>(wrows[0], 4 * ch * W, dst, ve, n);
          else
            input_horizontal<Vec, Sh, false>(wrows[0], 4 * ch * W, dst, ve, n);
        } else {
          if (full)
            input_horizontal2<Vec, true>(wrows[0], 2 * ch * W, dst, ve, n);
          else
            input_horizontal2<Vec, false>(wrows[0], 2 * ch * W, dst, ve, n);
        }
      }
    });
  }
}

// One chunk of n (<= W) tiles of one output channel, F(MxM, 3x3): m points at M[0][oc][first tile];
// the tiles' rows go to dst (rows 0 .. rows-1 of the tile row, cols valid columns, row stride ow)
// and take res (same layout, kRes only). The bias rides in m[1][1]: column 1 of A^T is all ones, so
// it reaches all M*M outputs of the tile through one add.
template <class Vec, class Sh, int M, bool kRes, bool kRelu>
inline void output_chunk(const float* m, size_t me, int n, typename Vec::V bias, float* dst, const float* res,
                         size_t ow, size_t rows, size_t cols) {
  using V = typename Vec::V;
  constexpr size_t W = Vec::W;
  constexpr int R = M + 2;
  V s[M][R];  // s[k][j]: column j after A^T along the columns
  for (int j = 0; j < R; ++j) {
    V c[R];
    const float* p = m + j * me;
    for (int i = 0; i < R; ++i, p += R * me) c[i] = n == static_cast<int>(W) ? Vec::load(p) : Vec::load_n(p, n);
    if (j == 1) c[1] = Vec::add(c[1], bias);
    V y[M];
    if constexpr (M == 4)
      at4<Vec>(c, y);
    else
      at2<Vec>(c, y);
    for (int k = 0; k < M; ++k) s[k][j] = y[k];
  }
  for (size_t k = 0; k < rows; ++k, dst += ow) {
    V y[M], o[M];
    if constexpr (M == 4) {
      at4<Vec>(s[k], y);
      Sh::interleave4(y, o);
    } else {
      at2<Vec>(s[k], y);
      Sh::interleave2(y, o);
    }
    for (size_t q = 0; q < static_cast<size_t>(M) && q * W < cols; ++q) {
      const int cnt = static_cast<int>(std::min(W, cols - q * W));
      V v = o[q];
      if (cnt == static_cast<int>(W)) {
        if (kRes) v = Vec::add(v, Vec::load(res + k * ow + q * W));
        if (kRelu) v = Vec::max(Vec::zero(), v);
        Vec::store(dst + q * W, v);
      } else {
        if (kRes) v = Vec::add(v, Vec::load_n(res + k * ow + q * W, cnt));
        if (kRelu) v = Vec::max(Vec::zero(), v);
        Vec::store_n(dst + q * W, v, cnt);
      }
    }
  }
}

template <class Vec, class Sh, int M, bool kRes, bool kRelu>
void output_transform_t(const WinogradOutArgs& a) {
  constexpr size_t W = Vec::W;
  constexpr size_t MM = M;
  const size_t ow = a.OW, plane = a.OH * a.OW, ldm = a.ldm, me = a.me;
  for (size_t oc = a.oc0; oc < a.oc1; ++oc) {
    const auto b = Vec::set1(a.bias ? a.bias[oc] : 0.0f);
    const float* mp = a.M + oc * ldm;
    float* const out = a.out + oc * plane;
    const float* const res = kRes ? a.residual + oc * plane : nullptr;
    for_each_segment(a.t0, a.t1, a.TW, [&](size_t ti, size_t tj0, size_t tj1, size_t toff) {
      const size_t seg = tj1 - tj0, nch = (seg + W - 1) / W;
      const size_t rows = std::min<size_t>(MM, a.OH - MM * ti);
      for (size_t ch = 0; ch < nch; ++ch) {
        const size_t tj = tj0 + ch * W;
        const int n = static_cast<int>(std::min(W, seg - ch * W));
        const size_t cols = std::min(MM * static_cast<size_t>(n), ow - MM * tj);  // valid outputs
        const size_t off = MM * ti * ow + MM * tj;
        output_chunk<Vec, Sh, M, kRes, kRelu>(mp + toff + ch * W, me, n, b, out + off, kRes ? res + off : nullptr,
                                              ow, rows, cols);
      }
    });
  }
}

template <class Vec, class Sh, int M>
void output_transform_m(const WinogradOutArgs& a) {
  if (a.residual)
    a.relu ? output_transform_t<Vec, Sh, M, true, true>(a) : output_transform_t<Vec, Sh, M, true, false>(a);
  else
    a.relu ? output_transform_t<Vec, Sh, M, false, true>(a) : output_transform_t<Vec, Sh, M, false, false>(a);
}

template <class Vec, class Sh>
void input_transform_any(const WinogradInArgs& a) {
  if (a.m == 2)
    input_transform_t<Vec, Sh, 2>(a);
  else
    input_transform_t<Vec, Sh, 4>(a);
}

template <class Vec, class Sh>
void output_transform(const WinogradOutArgs& a) {
  if (a.m == 2)
    output_transform_m<Vec, Sh, 2>(a);
  else
    output_transform_m<Vec, Sh, 4>(a);
}

}  // namespace
}  // namespace winograd_impl
}  // namespace simdcnn
