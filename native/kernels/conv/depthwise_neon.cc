// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon. Four lanes, so
// the direct stride-2 path (8 lanes and up, see depthwise_impl.h) does not apply: stride 2 goes
// through the band copy, whose even-element loads are LD2.
#include "kernels/conv/depthwise_impl.h"

#if SIMDCNN_ARM64
#include <arm_neon.h>

namespace simdcnn {
namespace {
struct NeonVec {
  static constexpr int64_t kWidth = 4;
  using Vec = float32x4_t;
  static int64_t clamp_n(int64_t n, int64_t hi) { return n < 0 ? 0 : n > hi ? hi : n; }
  static Vec set1(float v) { return vdupq_n_f32(v); }
  static Vec load(const float* p) { return vld1q_f32(p); }
  static Vec load_s2(const float* p) { return vld2q_f32(p).val[0]; }
  // The first n floats at p only (n may be anything; others read as zero).
  static Vec load_s2_n(const float* p, int64_t n) {
    float t[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, static_cast<size_t>(clamp_n(n, 8)) * sizeof(float));
    return vld2q_f32(t).val[0];
  }
  static Vec fma(Vec a, Vec b, Vec c) { return vfmaq_f32(c, a, b); }
  static Vec load_n(const float* p, int64_t n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, static_cast<size_t>(clamp_n(n, 4)) * sizeof(float));
    return vld1q_f32(t);
  }
  // b when either is NaN, as the x86 max/min instructions (NEON's FMAX/FMIN would return NaN).
  static Vec max(Vec a, Vec b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static Vec min(Vec a, Vec b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static void store_n(float* p, Vec v, int64_t n) {
    float t[4];
    vst1q_f32(t, v);
    std::memcpy(p, t, static_cast<size_t>(clamp_n(n, 4)) * sizeof(float));
  }
  static void store(float* p, Vec v) { vst1q_f32(p, v); }
};
}  // namespace

void depthwise_planes_neon(const DwArgs& a, size_t t0, size_t t1, float* scratch) {
  dw_detail::depthwise_planes<NeonVec>(a, t0, t1, scratch);
}

}  // namespace simdcnn
#endif
