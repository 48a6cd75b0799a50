#include <cmath>
#include <limits>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/pool/pool2d.h"

namespace simdcnn {

Status global_pool2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, GlobalPoolMode mode) {
  int64_t planes = 0, total = 0;
  const int m = static_cast<int>(mode);
  if (m < 0 || m > 1 || HW < 1 || !checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total))
    return Status::kInvalidArgument;
  if (planes == 0) return Status::kOk;
  if (!x || !y) return Status::kInvalidArgument;
  const size_t hw = static_cast<size_t>(HW);
  const size_t grain = hw >= 16384 ? 1 : 16384 / hw;
  // Each plane's reduction stays on one thread, in a fixed order.
  parallel_for(static_cast<size_t>(planes), grain, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p) {
      const float* xp = x + p * hw;
      if (mode == GlobalPoolMode::kMax) {
        float mx = -std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < hw; ++i) {
          const float v = xp[i];
          if (v > mx || std::isnan(v)) mx = v;
          if (std::isnan(mx)) break;
        }
        y[p] = mx;
      } else {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t i = 0;
        for (; i + 4 <= hw; i += 4) {
          s0 += xp[i];
          s1 += xp[i + 1];
          s2 += xp[i + 2];
          s3 += xp[i + 3];
        }
        for (; i < hw; ++i) s0 += xp[i];
        y[p] = static_cast<float>(((s0 + s1) + (s2 + s3)) / static_cast<double>(hw));
      }
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
