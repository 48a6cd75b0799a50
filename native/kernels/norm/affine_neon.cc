// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/norm/affine_impl.h"

namespace simdcnn {

void affine_plane_neon(const float* x, float* y, size_t n, float mean, float scale, float shift) {
  affine_impl::plane<vec::VecNeon>(x, y, n, mean, scale, shift);
}

void affine_row_neon(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b) {
  affine_impl::row<vec::VecNeon>(x, y, n, mean, rstd, w, b);
}

void affine_grad_neon(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c) {
  affine_impl::grad<vec::VecNeon>(x, dy, dx, n, mean, a, b, c);
}

}  // namespace simdcnn
#endif
