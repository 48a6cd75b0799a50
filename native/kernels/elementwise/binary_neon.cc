// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/elementwise/binary_impl.h"

namespace simdcnn {

void binary_range_neon(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar) {
  binary_impl::binary_range<vec::VecNeon>(a, b, y, n, kind, b_scalar);
}

}  // namespace simdcnn
#endif
