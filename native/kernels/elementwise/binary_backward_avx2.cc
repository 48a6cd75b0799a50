// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/elementwise/binary_backward_impl.h"

namespace simdcnn {

void binary_backward_range_avx2(const float* a, const float* b, const float* dy, float* da, float* db,
                                size_t n, BinaryKind kind, bool b_scalar) {
  binary_backward_impl::binary_backward_range<vec::VecAvx2>(a, b, dy, da, db, n, kind, b_scalar);
}

double sum_range_avx2(const float* x, const float* y, size_t n) {
  return binary_backward_impl::sum_range<vec::VecAvx2>(x, y, n);
}

}  // namespace simdcnn
#endif
