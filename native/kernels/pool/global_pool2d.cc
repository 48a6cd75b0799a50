#include <cmath>
#include <limits>

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/pool/pool2d.h"

namespace simdcnn {

double plane_sum16_scalar(const float* x, size_t n) {
  constexpr size_t kLanes = 16;
  double s[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) s[j] += x[i + j];
  for (size_t j = 0; i < n; ++i, ++j) s[j] += x[i];
  for (size_t w = kLanes / 2; w > 0; w /= 2)
    for (size_t j = 0; j < w; ++j) s[j] += s[j + w];
  return s[0];
}

namespace {
// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr PlaneSumFn kPlaneSum[] = {plane_sum16_scalar, plane_sum16_avx2, plane_sum16_avx512, plane_sum16_scalar};
#elif SIMDCNN_ARM64
constexpr PlaneSumFn kPlaneSum[] = {plane_sum16_scalar, plane_sum16_scalar, plane_sum16_scalar, plane_sum16_neon};
#else
constexpr PlaneSumFn kPlaneSum[] = {plane_sum16_scalar, plane_sum16_scalar, plane_sum16_scalar, plane_sum16_scalar};
#endif
}  // namespace

Status global_pool2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, GlobalPoolMode mode) {
  int64_t planes = 0, total = 0;
  const int m = static_cast<int>(mode);
  if (m < 0 || m > 1 || HW < 1 || !checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total))
    return Status::kInvalidArgument;
  if (planes == 0) return Status::kOk;
  if (!x || !y) return Status::kInvalidArgument;
  const size_t hw = static_cast<size_t>(HW);
  // 16 partial sums per plane: 4 scalar chains were latency-bound at ~1 float per cycle
  // (EfficientNet-B0's 17 squeeze-and-excite pools took 0.55 ms).
  const PlaneSumFn sum = kPlaneSum[static_cast<int>(active_isa())];
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
        y[p] = static_cast<float>(sum(xp, hw) / static_cast<double>(hw));
      }
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
