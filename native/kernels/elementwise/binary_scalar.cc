#include "kernels/elementwise/binary_impl.h"

namespace simdcnn {

void binary_range_scalar(const float* a, const float* b, float* y, size_t n, BinaryKind kind, bool b_scalar) {
  binary_impl::binary_range<vec::VecScalar>(a, b, y, n, kind, b_scalar);
}

}  // namespace simdcnn
