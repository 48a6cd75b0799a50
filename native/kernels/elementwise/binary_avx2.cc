// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/elementwise/binary_impl.h"

namespace simdcnn {

void binary_range_avx2(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar) {
  binary_impl::binary_range<vec::VecAvx2>(a, b, y, n, kind, b_scalar);
}

}  // namespace simdcnn
#endif
