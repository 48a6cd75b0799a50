// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/pool/pool2d_backward_impl.h"

namespace simdcnn {

void pool2d_backward_plane_neon(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch) {
  pool_bwd_impl::plane<vec::VecNeon>(x, dy, dx, plan, scratch);
}

}  // namespace simdcnn
#endif
