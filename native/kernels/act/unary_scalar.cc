#include "kernels/act/unary_impl.h"

namespace simdcnn {

void unary_range_scalar(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta) {
  unary_impl::unary_range<vec::VecScalar>(x, y, n, kind, alpha, beta);
}

}  // namespace simdcnn
