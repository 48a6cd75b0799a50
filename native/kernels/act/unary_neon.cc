// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/act/unary_impl.h"

namespace simdcnn {

void unary_range_neon(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta) {
  unary_impl::unary_range<vec::VecNeon>(x, y, n, kind, alpha, beta);
}

}  // namespace simdcnn
#endif
