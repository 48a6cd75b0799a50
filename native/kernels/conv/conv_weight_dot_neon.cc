// Compiled with this ISA's flags; called only when it is the active ISA.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/conv/conv_weight_dot_impl.h"

namespace simdcnn {

void conv_weight_dot_neon(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n,
                  float* dw, size_t ld_dw, bool accumulate) {
  weight_dot_impl::weight_dot<vec::VecNeon>(dy, M, xp, offs, K, n, dw, ld_dw, accumulate);
}

}  // namespace simdcnn
#endif
