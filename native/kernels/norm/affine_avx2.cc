// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/norm/affine_impl.h"

namespace simdcnn {

void affine_plane_avx2(const float* x, float* y, size_t n, float mean, float scale, float shift) {
  affine_impl::plane<vec::VecAvx2>(x, y, n, mean, scale, shift);
}

void affine_row_avx2(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b) {
  affine_impl::row<vec::VecAvx2>(x, y, n, mean, rstd, w, b);
}

void affine_grad_avx2(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c) {
  affine_impl::grad<vec::VecAvx2>(x, dy, dx, n, mean, a, b, c);
}

}  // namespace simdcnn
#endif
