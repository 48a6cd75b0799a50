// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_neon(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecNeon>(x, y, plan, row, inter);
}

}  // namespace simdcnn
#endif
