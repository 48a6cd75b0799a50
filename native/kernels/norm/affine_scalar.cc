#include "kernels/norm/affine_impl.h"

namespace simdcnn {

void affine_plane_scalar(const float* x, float* y, size_t n, float mean, float scale, float shift) {
  affine_impl::plane<vec::VecScalar>(x, y, n, mean, scale, shift);
}

void affine_row_scalar(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b) {
  affine_impl::row<vec::VecScalar>(x, y, n, mean, rstd, w, b);
}

void affine_grad_scalar(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c) {
  affine_impl::grad<vec::VecScalar>(x, dy, dx, n, mean, a, b, c);
}

}  // namespace simdcnn
