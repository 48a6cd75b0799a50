#include "kernels/conv/depthwise_impl.h"

namespace simdcnn {
namespace {
struct ScalarRow {
  static void fill(float* o, float v, size_t n) {
    for (size_t i = 0; i < n; ++i) o[i] = v;
  }
  static void axpy(float* o, const float* x, float w, size_t n) {
    for (size_t i = 0; i < n; ++i) o[i] += w * x[i];
  }
  static void relu(float* o, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (o[i] < 0.0f) o[i] = 0.0f;  // NaN stays NaN
  }
};
}  // namespace

void depthwise_plane_scalar(const DwPlaneArgs& a) { dw_detail::depthwise_plane<ScalarRow>(a); }

}  // namespace simdcnn
