// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_avx2(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecAvx2>(x, y, plan, row, inter);
}

}  // namespace simdcnn
#endif
