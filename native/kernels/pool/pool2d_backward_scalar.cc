#include "kernels/pool/pool2d_backward_impl.h"

namespace simdcnn {

void pool2d_backward_plane_scalar(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch) {
  pool_bwd_impl::plane<vec::VecScalar>(x, dy, dx, plan, scratch);
}

}  // namespace simdcnn
