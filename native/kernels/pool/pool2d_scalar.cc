#include "kernels/pool/pool2d_impl.h"

namespace simdcnn {

void pool2d_plane_scalar(const float* x, float* y, const PoolPlan& plan, float* row, float* inter) {
  pool_impl::plane<vec::VecScalar>(x, y, plan, row, inter);
}

}  // namespace simdcnn
