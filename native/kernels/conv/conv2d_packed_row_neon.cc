// NEON row kernel (see ConvRowArgs): one 4-pixel vector per step and one accumulator per channel
// (up to 8 q registers). The row's last, partial vector goes through a small buffer so that no load
// or store touches memory past the row's own pixels.
#include "kernels/conv/conv2d_packed_ukernel.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

#include <cstring>

namespace simdcnn {
namespace {

inline float32x4_t load_n(const float* p, size_t n) {
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::memcpy(t, p, n * sizeof(float));
  return vld1q_f32(t);
}

inline void store_n(float* p, float32x4_t v, size_t n) {
  float t[4];
  vst1q_f32(t, v);
  std::memcpy(p, t, n * sizeof(float));
}

template <int OC, bool kFull>
void row_chunk(const ConvRowArgs& a, size_t i, size_t n, float32x4_t clo, float32x4_t chi) {
  float32x4_t acc[OC];
#pragma GCC unroll 8
  for (int j = 0; j < OC; ++j) acc[j] = vdupq_n_f32(0.0f);
  const float* s = a.src + i;
  const float* b = a.b;
  for (size_t k = 0; k < a.kc; ++k, b += a.nr) {
    const float32x4_t v = kFull ? vld1q_f32(s + a.offs[k]) : load_n(s + a.offs[k], n);
#pragma GCC unroll 8
    for (int j = 0; j < OC; ++j) acc[j] = vfmaq_n_f32(acc[j], v, b[j]);
  }
#pragma GCC unroll 8
  for (int j = 0; j < OC; ++j) {
    float32x4_t y = acc[j];
    if (a.bias) y = vaddq_f32(y, vdupq_n_f32(a.bias[j]));
    if (a.residual) {
      const float* res = a.residual + j * a.ohw + i;
      y = vaddq_f32(y, kFull ? vld1q_f32(res) : load_n(res, n));
    }
    if (a.clamp) {  // the x86 rule: NaN kept
      y = vbslq_f32(vcgtq_f32(clo, y), clo, y);
      y = vbslq_f32(vcltq_f32(chi, y), chi, y);
    }
    float* o = a.out + j * a.ohw + i;
    if (kFull)
      vst1q_f32(o, y);
    else
      store_n(o, y, n);
  }
}

template <int OC>
void row_oc(const ConvRowArgs& a) {
  const float32x4_t clo = vdupq_n_f32(a.lo), chi = vdupq_n_f32(a.hi);
  size_t i = 0;
  for (; i + 4 <= a.n; i += 4) row_chunk<OC, true>(a, i, 4, clo, chi);
  if (i < a.n) row_chunk<OC, false>(a, i, a.n - i, clo, chi);
}

}  // namespace

void gather_even_neon(float* dst, const float* src, size_t n) {
  size_t i = 0;
  // Full steps read src[2i .. 2i+8): in bounds (2i+7 <= 2n-2) while i + 4 < n; the rest goes
  // element by element.
  for (; i + 4 < n; i += 4) vst1q_f32(dst + i, vld2q_f32(src + 2 * i).val[0]);
  for (; i < n; ++i) dst[i] = src[2 * i];
}

void conv_packed_row_neon(const ConvRowArgs& a) {
  with_row_channels(a.w, [&](auto oc) { row_oc<decltype(oc)::value>(a); });
}

}  // namespace simdcnn
#endif
