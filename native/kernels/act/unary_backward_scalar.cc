#include "kernels/act/unary_backward_impl.h"

namespace simdcnn {

void unary_backward_range_scalar(const float* x, const float* y, const float* dy, float* dx, size_t n,
                                 UnaryBackwardKind kind, float alpha) {
  unary_backward_impl::unary_backward_range<vec::VecScalar>(x, y, dy, dx, n, kind, alpha);
}

}  // namespace simdcnn
