// Compiled with -mavx512f; called only when active_isa() is avx512.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/pool/pool2d_backward_impl.h"

namespace simdcnn {

void pool2d_backward_plane_avx512(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch) {
  pool_bwd_impl::plane<vec::VecAvx512>(x, dy, dx, plan, scratch);
}

}  // namespace simdcnn
#endif
