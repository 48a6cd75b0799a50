// Compiled with -mavx512f; called only when active_isa() is avx512.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/act/unary_impl.h"

namespace simdcnn {

void unary_range_avx512(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta) {
  unary_impl::unary_range<vec::VecAvx512>(x, y, n, kind, alpha, beta);
}

}  // namespace simdcnn
#endif
