// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/pool/pool2d_backward_impl.h"

namespace simdcnn {

void pool2d_backward_plane_avx2(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch) {
  pool_bwd_impl::plane<vec::VecAvx2>(x, dy, dx, plan, scratch);
}

}  // namespace simdcnn
#endif
