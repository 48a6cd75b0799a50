// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/act/unary_backward_impl.h"

namespace simdcnn {

void unary_backward_range_avx2(const float* x, const float* y, const float* dy, float* dx, size_t n,
                               UnaryBackwardKind kind, float alpha) {
  unary_backward_impl::unary_backward_range<vec::VecAvx2>(x, y, dy, dx, n, kind, alpha);
}

}  // namespace simdcnn
#endif
