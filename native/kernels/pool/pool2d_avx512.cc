// Compiled with -mavx512f; called only when active_isa() is avx512.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_avx512(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecAvx512>(x, y, plan, row, inter);
}

}  // namespace simdcnn
#endif
