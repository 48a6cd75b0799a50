// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/act/unary_backward_impl.h"

namespace simdcnn {

void unary_backward_range_neon(const float* x, const float* y, const float* dy, float* dx, size_t n,
                               UnaryBackwardKind kind, float alpha) {
  unary_backward_impl::unary_backward_range<vec::VecNeon>(x, y, dy, dx, n, kind, alpha);
}

}  // namespace simdcnn
#endif
