#include "kernels/conv/depthwise_impl.h"

namespace simdcnn {
namespace {
struct ScalarVec {
  static constexpr int64_t kWidth = 1;
  static constexpr bool kHasS2 = true;
  using Vec = float;
  static Vec set1(float v) { return v; }
  static Vec load(const float* p) { return *p; }
  static Vec load_s2(const float* p) { return *p; }
  static Vec fma(Vec a, Vec b, Vec c) { return a * b + c; }
  static Vec relu(Vec v) { return v < 0.0f ? 0.0f : v; }  // NaN stays NaN
  static void store(float* p, Vec v) { *p = v; }
  static Vec load_n(const float* p, int64_t) { return *p; }  // never called: kWidth is 1
  static void store_n(float* p, Vec v, int64_t) { *p = v; }
};
}  // namespace

void depthwise_plane_scalar(const DwPlaneArgs& a) { dw_detail::depthwise_plane<ScalarVec>(a); }

}  // namespace simdcnn
