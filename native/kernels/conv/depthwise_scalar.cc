#include "kernels/conv/depthwise_impl.h"

namespace simdcnn {
namespace {
struct ScalarVec {
  static constexpr int64_t kWidth = 1;
  using Vec = float;
  static Vec set1(float v) { return v; }
  static Vec load(const float* p) { return *p; }
  static Vec load_s2(const float* p) { return *p; }
  static Vec load_s2_n(const float* p, int64_t n) { return n > 0 ? *p : 0.0f; }
  static Vec fma(Vec a, Vec b, Vec c) { return a * b + c; }
  // b when either is NaN, as the x86 max/min instructions.
  static Vec load_n(const float* p, int64_t) { return *p; }  // n is 1: kWidth is 1
  static Vec max(Vec a, Vec b) { return a > b ? a : b; }
  static Vec min(Vec a, Vec b) { return a < b ? a : b; }
  static void store_n(float* p, Vec v, int64_t) { *p = v; }
  static void store(float* p, Vec v) { *p = v; }
};
}  // namespace

void depthwise_planes_scalar(const DwArgs& a, size_t t0, size_t t1, float* scratch) {
  dw_detail::depthwise_planes<ScalarVec>(a, t0, t1, scratch);
}

}  // namespace simdcnn
