#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/norm/affine.h"
#include "kernels/norm/norm.h"
#include "kernels/norm/norm_stats.h"

namespace simdcnn {

Status layer_norm(const float* x, float* y, int64_t outer, int64_t inner, const float* weight,
                  const float* bias, float eps) {
  int64_t total = 0;
  if (!checked_mul(outer, inner, &total)) return Status::kInvalidArgument;
  if (!(eps >= 0.0f) || !std::isfinite(eps)) return Status::kInvalidArgument;
  if (total == 0) return Status::kOk;
  if (!x || !y) return Status::kInvalidArgument;
  const AffineRowFn row = affine_kernels().row;
  const size_t n = static_cast<size_t>(inner);
  const size_t grain = n >= 16384 ? 1 : 16384 / n;
  parallel_for(static_cast<size_t>(outer), grain, [&](size_t lo, size_t hi) {
    for (size_t r = lo; r < hi; ++r) {
      const float* xr = x + r * n;
      const double m = norm_stats::sum(xr, n) / static_cast<double>(n);
      const double v = norm_stats::sum_sq_dev(xr, n, m) / static_cast<double>(n);
      const double rstd = 1.0 / std::sqrt(v + static_cast<double>(eps));
      row(xr, y + r * n, n, static_cast<float>(m), static_cast<float>(rstd), weight, bias);
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
