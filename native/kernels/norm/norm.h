// Normalisation ops (PyTorch semantics). x is float32, row-major; statistics are accumulated in
// double in a fixed order, so results do not depend on the thread count.
#pragma once
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// x viewed as [N, C, HW]: y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c].
// weight/bias may be null (1 and 0). y may alias x. eps >= 0.
Status batch_norm2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, const float* mean,
                    const float* var, const float* weight, const float* bias, float eps);

// Per-channel mean and biased variance of x viewed as [N, C, HW] (over N and HW). Two passes in
// double. N * HW must be >= 1.
Status channel_stats(const float* x, int64_t N, int64_t C, int64_t HW, float* mean, float* var);

// x viewed as [outer, inner]; each row normalised with its mean and biased variance;
// weight/bias (inner entries each) may be null. y may alias x.
Status layer_norm(const float* x, float* y, int64_t outer, int64_t inner, const float* weight,
                  const float* bias, float eps);

// x viewed as [N, C, HW]; each (n, c) plane normalised over HW; weight/bias (C entries) may be null.
Status instance_norm2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, const float* weight,
                       const float* bias, float eps);

// Training-mode batch-norm gradient, x and dy viewed as [N, C, HW]: the batch mean and biased
// variance of each channel are recomputed from x (double), then
//   dx = weight * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),   M = N * HW
//   dweight = sum(dy * xhat), dbias = sum(dy).
// weight null means ones; dx, dweight, dbias may each be null (not computed). Outputs are
// overwritten and must not overlap the inputs. eps >= 0, N * HW >= 1.
Status batch_norm2d_backward(const float* x, const float* dy, int64_t N, int64_t C, int64_t HW, const float* weight,
                             float eps, float* dx, float* dweight, float* dbias);

// Batch norm's running statistics after a training-mode batch, per channel c < C:
//   running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c]
//   running_var[c]  = (1 - momentum) * running_var[c] + momentum * var[c] * unbias
// in double, stored as float32: the bits of lib/ops/norm.ts's JS loop (unbias = M / (M - 1)).
Status running_stats_update(float* running_mean, float* running_var, const float* mean, const float* var, int64_t C,
                            double momentum, double unbias);

}  // namespace simdcnn
