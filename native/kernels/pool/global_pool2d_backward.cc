#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/pool/pool2d.h"

namespace simdcnn {

Status global_pool2d_backward(const float* x, const float* dy, float* dx, int64_t N, int64_t C, int64_t HW,
                              GlobalPoolMode mode) {
  int64_t planes = 0, total = 0;
  const int m = static_cast<int>(mode);
  if (m < 0 || m > 1 || HW < 1 || !checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total))
    return Status::kInvalidArgument;
  if (planes == 0) return Status::kOk;
  if (!x || !dy || !dx) return Status::kInvalidArgument;
  const size_t hw = static_cast<size_t>(HW);
  const size_t grain = hw >= 16384 ? 1 : 16384 / hw;
  parallel_for(static_cast<size_t>(planes), grain, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p) {
      float* dxp = dx + p * hw;
      if (mode == GlobalPoolMode::kAvg) {
        const float share = static_cast<float>(static_cast<double>(dy[p]) / static_cast<double>(hw));
        for (size_t i = 0; i < hw; ++i) dxp[i] = share;
        continue;
      }
      const float* xp = x + p * hw;
      size_t arg = 0;
      float best = xp[0];
      for (size_t i = 1; i < hw; ++i) {
        const float v = xp[i];
        if (v > best || std::isnan(v)) {
          best = v;
          arg = i;
        }
      }
      for (size_t i = 0; i < hw; ++i) dxp[i] = 0.0f;
      dxp[arg] = dy[p];
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
