// A minimal SIMD vocabulary shared by the ops-family template kernels (*_impl.h). Each per-ISA
// translation unit includes this header and instantiates the templates with the one Vec type its
// compile flags allow: VecScalar (always), VecAvx2 (__AVX2__ + __FMA__), VecAvx512 (__AVX512F__),
// VecNeon (AArch64, where Advanced SIMD is baseline).
// The scalar type is a one-lane vector, so the scalar path runs the same algorithm as the SIMD paths.
//
// Semantics every Vec shares (they are the x86 ones, so the scalar type mimics them):
//   max(a, b) = a > b ? a : b    min(a, b) = a < b ? a : b   (b is returned when either is NaN)
//   max_nan / min_nan: PyTorch's pooling reduction, NaN is sticky in the accumulator and a NaN
//   operand propagates.
// Tail handling: load_n/store_n touch only the first n (< W) lanes; the other lanes read as 0.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h seeds unmasked intrinsics with _mm512_undefined_ps(), which -O3 reports
// as "may be used uninitialized" (GCC bug 105593). Only the per-ISA avx512 files include this with
// __AVX512F__ defined, and the pragma has to outlive the header to cover their instantiations.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {
namespace vec {
// Internal linkage: this header is compiled once per ISA (with different -m flags), and inline
// functions with external linkage would let the linker keep the AVX-512 copy for the scalar path.
namespace {

// p * 2^n as two exact power-of-two factors 2^floor(n/2) * 2^(n - floor(n/2)), for the Vec types
// without a scale instruction (see scale2 below).
template <class Vec>
inline typename Vec::V scale2_halves(typename Vec::V p, typename Vec::V n) {
  const typename Vec::V n1 = Vec::floor(Vec::mul(n, Vec::set1(0.5f)));
  return Vec::mul(Vec::mul(p, Vec::pow2i(n1)), Vec::pow2i(Vec::sub(n, n1)));
}

struct VecScalar {
  using V = float;
  static constexpr int W = 1;
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V load_n(const float* p, int n) { return n > 0 ? *p : 0.0f; }
  static void store_n(float* p, V v, int n) {
    if (n > 0) *p = v;
  }
  static V gather(const float* p, int64_t stride) { return *p; }
  // p[0], p[2], ..., p[2*(W-1)]; may read up to p[2*W - 1].
  static V load_even(const float* p) { return *p; }
  // The first n (<= W) even lanes p[0], p[2], ..., p[2n-2]; reads only p[0 .. 2n-2].
  static V load_even_n(const float* p, int n) { return n > 0 ? *p : 0.0f; }
  static V gather_n(const float* p, int64_t stride, int n) { return n > 0 ? *p : 0.0f; }
  static V set1(float v) { return v; }
  static V zero() { return 0.0f; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V sqrt(V a) { return std::sqrt(a); }
  // Two roundings: the scalar build has no FMA instruction and std::fma would be a libm call.
  static V fmadd(V a, V b, V c) { return a * b + c; }
  // a * b + c with one rounding where it matters (HardSigmoid's alpha * x + beta cancels near its
  // kink): the float product is exact in double, so only the sum and the narrowing round.
  static V fmadd_once(V a, V b, V c) {
    return static_cast<float>(static_cast<double>(a) * static_cast<double>(b) + static_cast<double>(c));
  }
  static V max(V a, V b) { return a > b ? a : b; }
  static V min(V a, V b) { return a < b ? a : b; }
  // As the x86 kernels: max_ps(acc, v) (v on ties, so max(+0, -0) is -0), acc kept where it is NaN.
  static V max_nan(V acc, V v) { return std::isnan(acc) ? acc : max(acc, v); }
  static V min_nan(V acc, V v) { return std::isnan(acc) ? acc : min(acc, v); }
  static V abs(V a) { return std::fabs(a); }
  // -a: the sign bit flipped (NaN included, as C's unary minus).
  static V neg(V a) { return -a; }
  static V floor(V a) { return std::floor(a); }
  // 2^n for integer-valued n in [-126, 127].
  static V pow2i(V n) {
    if (std::isnan(n)) return n;  // the cast below would be undefined
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }  // p * 2^n for integer-valued n in [-252, 254]: two exact power-of-two factors (a single 2^n
  // has no float32 exponent past [-126, 127]), so the result over- or underflows as p * 2^n would.
  static V scale2(V p, V n) { return scale2_halves<VecScalar>(p, n); }

  // x > 0 ? a : b   (NaN x selects b)
  static V select_gt0(V x, V a, V b) { return x > 0.0f ? a : b; }
  // x >= 0 ? a : b
  static V select_ge0(V x, V a, V b) { return x >= 0.0f ? a : b; }
  // x < t ? a : b
  static V select_lt(V x, V t, V a, V b) { return x < t ? a : b; }
  // |mag| with the sign bit of s
  static V copysign(V mag, V s) { return std::copysign(mag, s); }
};

#if defined(__AVX2__) && defined(__FMA__)
struct VecAvx2 {
  using V = __m256;
  static constexpr int W = 8;
  static __m256i tail_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_n(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask(n)); }
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
  static __m256i lane_offsets(int64_t stride) {
    const int s = static_cast<int>(stride);
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(s));
  }
  static V load_even_n(const float* p, int n) {
    const int m = 2 * n - 1;  // floats read
    const __m256 a = _mm256_maskload_ps(p, tail_mask(m < 8 ? m : 8));
    const __m256 b = m > 8 ? _mm256_maskload_ps(p + 8, tail_mask(m - 8)) : _mm256_setzero_ps();
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
  }
  static V load_even(const float* p) {
    // [a0 a2 b0 b2 | a4 a6 b4 b6] -> 64-bit lanes 0 2 1 3 = [a0 a2 a4 a6 b0 b2 b4 b6]
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
  }
  static V gather(const float* p, int64_t stride) {
    return _mm256_i32gather_ps(p, lane_offsets(stride), 4);
  }
  static V gather_n(const float* p, int64_t stride, int n) {
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, lane_offsets(stride),
                                    _mm256_castsi256_ps(tail_mask(n)), 4);
  }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V zero() { return _mm256_setzero_ps(); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V sqrt(V a) { return _mm256_sqrt_ps(a); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fmadd_once(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max_nan(V acc, V v) {
    // max_ps(acc, v) yields v when v is NaN; keep acc where acc is already NaN.
    return _mm256_blendv_ps(_mm256_max_ps(acc, v), acc, _mm256_cmp_ps(acc, acc, _CMP_UNORD_Q));
  }
  static V min_nan(V acc, V v) {
    return _mm256_blendv_ps(_mm256_min_ps(acc, v), acc, _mm256_cmp_ps(acc, acc, _CMP_UNORD_Q));
  }
  static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static V neg(V a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static V floor(V a) { return _mm256_floor_ps(a); }
  static V pow2i(V n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static V scale2(V p, V n) { return scale2_halves<VecAvx2>(p, n); }
  static V select_gt0(V x, V a, V b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
  }
  static V select_ge0(V x, V a, V b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  }
  static V select_lt(V x, V t, V a, V b) {
    return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, t, _CMP_LT_OQ));
  }
  static V copysign(V mag, V s) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, s));
  }
};
#endif

#if defined(__AVX512F__)
struct VecAvx512 {
  using V = __m512;
  static constexpr int W = 16;
  static __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
  static __m512i lane_offsets(int64_t stride) {
    const int s = static_cast<int>(stride);
    return _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(s));
  }
  static V load_even_n(const float* p, int n) {
    const int m = 2 * n - 1;  // floats read
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 a = _mm512_maskz_loadu_ps(tail_mask(m < 16 ? m : 16), p);
    const __m512 b = m > 16 ? _mm512_maskz_loadu_ps(tail_mask(m - 16), p + 16) : _mm512_setzero_ps();
    return _mm512_permutex2var_ps(a, idx, b);
  }
  static V load_even(const float* p) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16));
  }
  // Elements [lo, hi) of the 16 floats at p (clamped to [0, 16]), `fill` in the other lanes; only
  // those elements are read, so p may point before or past the buffer for the others.
  static __mmask16 range_mask(int64_t lo, int64_t hi) {
    lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
    hi = hi < lo ? lo : hi > 16 ? 16 : hi;
    return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  }
  static V load_fill(const float* p, int64_t lo, int64_t hi, V fill) {
    return _mm512_mask_loadu_ps(fill, range_mask(lo, hi), p);
  }
  // The even elements of the 32 floats at p, of which only [lo, hi) are read; `fill` for the rest.
  static V load_even_fill(const float* p, int64_t lo, int64_t hi, V fill) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 a = _mm512_mask_loadu_ps(fill, range_mask(lo, hi), p);
    const __m512 b = _mm512_mask_loadu_ps(fill, range_mask(lo - 16, hi - 16), p + 16);
    return _mm512_permutex2var_ps(a, idx, b);
  }
  static V gather(const float* p, int64_t stride) {
    return _mm512_i32gather_ps(lane_offsets(stride), p, 4);
  }
  static V gather_n(const float* p, int64_t stride, int n) {
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), tail_mask(n), lane_offsets(stride), p, 4);
  }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V zero() { return _mm512_setzero_ps(); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V sqrt(V a) { return _mm512_sqrt_ps(a); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V fmadd_once(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max_nan(V acc, V v) {
    const __mmask16 acc_nan = _mm512_cmp_ps_mask(acc, acc, _CMP_UNORD_Q);
    return _mm512_mask_blend_ps(acc_nan, _mm512_max_ps(acc, v), acc);
  }
  static V min_nan(V acc, V v) {
    const __mmask16 acc_nan = _mm512_cmp_ps_mask(acc, acc, _CMP_UNORD_Q);
    return _mm512_mask_blend_ps(acc_nan, _mm512_min_ps(acc, v), acc);
  }
  static V abs(V a) {
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
  }
  static V neg(V a) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
  }
  static V floor(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static V pow2i(V n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  // One instruction, one rounding (only ever in the subnormal range, where the halves round once too).
  static V scale2(V p, V n) { return _mm512_scalef_ps(p, n); }
  static V select_gt0(V x, V a, V b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), b, a);
  }
  static V select_ge0(V x, V a, V b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), b, a);
  }
  static V select_lt(V x, V t, V a, V b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, t, _CMP_LT_OQ), b, a);
  }
  static V copysign(V mag, V s) {
    const __m512i m = _mm512_set1_epi32(0x7fffffff);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(mag), m),
                                               _mm512_andnot_si512(m, _mm512_castps_si512(s))));
  }
};
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
// Four lanes of float32x4_t. NEON's own FMAX/FMIN return NaN when either operand is NaN, so max
// and min are compare-and-select to keep the x86 rule above (b when either is NaN). Tails go
// through a small stack buffer: there are no masked loads, and a full-width access could cross
// the end of the caller's array.
struct VecNeon {
  using V = float32x4_t;
  static constexpr int W = 4;
  static V load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static int clamp_n(int n, int hi) { return n < 0 ? 0 : n > hi ? hi : n; }
  static V load_n(const float* p, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, static_cast<size_t>(clamp_n(n, 4)) * sizeof(float));
    return vld1q_f32(t);
  }
  static void store_n(float* p, V v, int n) {
    float t[4];
    vst1q_f32(t, v);
    std::memcpy(p, t, static_cast<size_t>(clamp_n(n, 4)) * sizeof(float));
  }
  static V gather(const float* p, int64_t stride) {
    const float t[4] = {p[0], p[stride], p[2 * stride], p[3 * stride]};
    return vld1q_f32(t);
  }
  static V gather_n(const float* p, int64_t stride, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n && i < 4; ++i) t[i] = p[i * stride];
    return vld1q_f32(t);
  }
  // LD2 deinterleaves p[0..8): val[0] holds the even elements.
  static V load_even(const float* p) { return vld2q_f32(p).val[0]; }
  static V load_even_n(const float* p, int n) {
    float t[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    const int m = 2 * clamp_n(n, 4) - 1;  // floats read
    if (m > 0) std::memcpy(t, p, static_cast<size_t>(m) * sizeof(float));
    return vld2q_f32(t).val[0];
  }
  static V set1(float v) { return vdupq_n_f32(v); }
  static V zero() { return vdupq_n_f32(0.0f); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V div(V a, V b) { return vdivq_f32(a, b); }
  static V sqrt(V a) { return vsqrtq_f32(a); }
  static V fmadd(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V fmadd_once(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V max(V a, V b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static V min(V a, V b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  // max(acc, v) as above, then acc where acc is already NaN (acc == acc is false only for NaN).
  static V max_nan(V acc, V v) { return vbslq_f32(vceqq_f32(acc, acc), max(acc, v), acc); }
  static V min_nan(V acc, V v) { return vbslq_f32(vceqq_f32(acc, acc), min(acc, v), acc); }
  static V abs(V a) { return vabsq_f32(a); }
  static V neg(V a) { return vnegq_f32(a); }
  static V floor(V a) { return vrndmq_f32(a); }
  static V pow2i(V n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
  static V scale2(V p, V n) { return scale2_halves<VecNeon>(p, n); }
  static V select_gt0(V x, V a, V b) { return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), a, b); }
  static V select_ge0(V x, V a, V b) { return vbslq_f32(vcgeq_f32(x, vdupq_n_f32(0.0f)), a, b); }
  static V select_lt(V x, V t, V a, V b) { return vbslq_f32(vcltq_f32(x, t), a, b); }
  static V copysign(V mag, V s) { return vbslq_f32(vdupq_n_u32(0x80000000u), s, mag); }
};
#endif

// exp(x) for x in [-104, 89] (callers clamp): Cephes' expf polynomial, about 1 ulp, scaled by
// 2^n with scale2, so results past 88.72 overflow to +inf and those below -87.3 come out
// subnormal (below -103.3 zero) as they should. NaN propagates.
template <class Vec>
inline typename Vec::V exp_clamped(typename Vec::V x) {
  using V = typename Vec::V;
  const V fx = Vec::floor(Vec::fmadd(x, Vec::set1(1.44269504088896341f), Vec::set1(0.5f)));
  V r = Vec::fmadd(fx, Vec::set1(-0.693359375f), x);
  r = Vec::fmadd(fx, Vec::set1(2.12194440e-4f), r);
  V p = Vec::set1(1.9875691500e-4f);
  p = Vec::fmadd(p, r, Vec::set1(1.3981999507e-3f));
  p = Vec::fmadd(p, r, Vec::set1(8.3334519073e-3f));
  p = Vec::fmadd(p, r, Vec::set1(4.1665795894e-2f));
  p = Vec::fmadd(p, r, Vec::set1(1.6666665459e-1f));
  p = Vec::fmadd(p, r, Vec::set1(5.0000001201e-1f));
  const V r2 = Vec::mul(r, r);
  p = Vec::fmadd(p, r2, Vec::add(r, Vec::set1(1.0f)));
  return Vec::scale2(p, fx);
}

// exp(x) for x <= 0 (tanh and erf feed it -2|x| and -x^2). max(c, x) returns x when x is NaN, so
// NaN survives the clamp.
template <class Vec>
inline typename Vec::V exp_nonpos(typename Vec::V x) {
  return exp_clamped<Vec>(Vec::max(Vec::set1(-104.0f), x));
}

}  // namespace
}  // namespace vec
}  // namespace simdcnn
