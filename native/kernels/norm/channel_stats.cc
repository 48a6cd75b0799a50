#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/norm/norm.h"
#include "kernels/norm/norm_stats.h"

namespace simdcnn {

Status channel_stats(const float* x, int64_t N, int64_t C, int64_t HW, float* mean, float* var) {
  int64_t planes = 0, total = 0, count = 0;
  if (!checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total) || !checked_mul(N, HW, &count))
    return Status::kInvalidArgument;
  if (C == 0) return Status::kOk;
  if (count == 0 || !x || !mean || !var) return Status::kInvalidArgument;
  const size_t hw = static_cast<size_t>(HW), n_planes = static_cast<size_t>(N),
               stride = static_cast<size_t>(C) * hw;
  const size_t grain = count >= 32768 ? 1 : static_cast<size_t>(32768 / count);
  // One channel per task: its reduction never spans threads.
  parallel_for(static_cast<size_t>(C), grain, [&](size_t lo, size_t hi) {
    for (size_t c = lo; c < hi; ++c) {
      const float* base = x + c * hw;
      double s = 0;
      for (size_t n = 0; n < n_planes; ++n) s += norm_stats::sum(base + n * stride, hw);
      const double m = s / static_cast<double>(count);
      double q = 0;
      for (size_t n = 0; n < n_planes; ++n) q += norm_stats::sum_sq_dev(base + n * stride, hw, m);
      mean[c] = static_cast<float>(m);
      var[c] = static_cast<float>(q / static_cast<double>(count));
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
