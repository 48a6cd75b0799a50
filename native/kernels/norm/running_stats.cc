#include "kernels/elementwise/no_contract.h"
#include "kernels/norm/norm.h"

namespace simdcnn {

Status running_stats_update(float* running_mean, float* running_var, const float* mean, const float* var, int64_t C,
                            double momentum, double unbias) {
  if (C < 0 || (C > 0 && (!running_mean || !running_var || !mean || !var))) return Status::kInvalidArgument;
  // Serial: one entry per channel is never worth a thread.
  const double keep = 1 - momentum;
  for (int64_t c = 0; c < C; ++c) {
    running_mean[c] = static_cast<float>(keep * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<float>(keep * running_var[c] + momentum * var[c] * unbias);
  }
  return Status::kOk;
}

}  // namespace simdcnn
