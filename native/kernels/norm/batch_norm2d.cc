#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/norm/affine.h"
#include "kernels/norm/norm.h"

namespace simdcnn {

Status batch_norm2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, const float* mean,
                    const float* var, const float* weight, const float* bias, float eps) {
  int64_t planes = 0, total = 0;
  if (!checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total)) return Status::kInvalidArgument;
  if (!(eps >= 0.0f) || !std::isfinite(eps)) return Status::kInvalidArgument;
  if (total == 0) return Status::kOk;
  if (!x || !y || !mean || !var) return Status::kInvalidArgument;
  const AffinePlaneFn plane = affine_kernels().plane;
  const size_t hw = static_cast<size_t>(HW);
  const size_t grain = hw >= 32768 ? 1 : 32768 / hw;
  parallel_for(static_cast<size_t>(planes), grain, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p) {
      const size_t c = p % static_cast<size_t>(C);
      const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps));
      const double scale = weight ? invstd * weight[c] : invstd;
      plane(x + p * hw, y + p * hw, hw, mean[c], static_cast<float>(scale), bias ? bias[c] : 0.0f);
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
