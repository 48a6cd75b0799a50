// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/elementwise/binary_backward_impl.h"

namespace simdcnn {

void binary_backward_range_neon(const float* a, const float* b, const float* dy, float* da, float* db,
                                size_t n, BinaryKind kind, bool b_scalar) {
  binary_backward_impl::binary_backward_range<vec::VecNeon>(a, b, dy, da, db, n, kind, b_scalar);
}

double sum_range_neon(const float* x, const float* y, size_t n) {
  return binary_backward_impl::sum_range<vec::VecNeon>(x, y, n);
}

}  // namespace simdcnn
#endif
