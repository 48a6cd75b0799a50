#include "kernels/optim/optim_impl.h"

namespace simdcnn {

void sgd_range_scalar(float* w, const float* g, float* buf, size_t n, const SgdHyper& h) {
  optim_impl::sgd_range<vec::VecScalar>(w, g, buf, n, h);
}

void adam_range_scalar(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h) {
  optim_impl::adam_range<vec::VecScalar>(w, g, m, v, n, h);
}

}  // namespace simdcnn
