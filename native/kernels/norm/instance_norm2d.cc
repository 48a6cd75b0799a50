#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/norm/affine.h"
#include "kernels/norm/norm.h"
#include "kernels/norm/norm_stats.h"

namespace simdcnn {

Status instance_norm2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, const float* weight,
                       const float* bias, float eps) {
  int64_t planes = 0, total = 0;
  if (!checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total)) return Status::kInvalidArgument;
  if (!(eps >= 0.0f) || !std::isfinite(eps)) return Status::kInvalidArgument;
  if (total == 0) return Status::kOk;
  if (!x || !y) return Status::kInvalidArgument;
  const AffinePlaneFn plane = affine_kernels().plane;
  const size_t hw = static_cast<size_t>(HW);
  const size_t grain = hw >= 16384 ? 1 : 16384 / hw;
  parallel_for(static_cast<size_t>(planes), grain, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p) {
      const size_t c = p % static_cast<size_t>(C);
      const float* xp = x + p * hw;
      const double m = norm_stats::sum(xp, hw) / static_cast<double>(hw);
      const double v = norm_stats::sum_sq_dev(xp, hw, m) / static_cast<double>(hw);
      const double rstd = 1.0 / std::sqrt(v + static_cast<double>(eps));
      const double scale = weight ? rstd * weight[c] : rstd;
      plane(xp, y + p * hw, hw, static_cast<float>(m), static_cast<float>(scale), bias ? bias[c] : 0.0f);
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
