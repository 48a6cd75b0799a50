#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/loss/loss.h"

namespace simdcnn {

Status cross_entropy_into(const float* logits, const int32_t* targets, int64_t N, int64_t K, float* loss) {
  if (!loss) return Status::kInvalidArgument;
  double mean = 0;
  const Status s = cross_entropy(logits, targets, N, K, &mean, nullptr);
  if (s == Status::kOk) *loss = static_cast<float>(mean);
  return s;
}

Status cross_entropy_backward(const float* logits, const int32_t* targets, int64_t N, int64_t K,
                              const float* grad_out, float* dlogits) {
  int64_t total = 0;
  if (N < 1 || K < 1 || !checked_mul(N, K, &total) || !logits || !targets || !grad_out || !dlogits)
    return Status::kInvalidArgument;
  // The targets are read when a captured step replays, so they are checked here again.
  for (int64_t n = 0; n < N; ++n)
    if (targets[n] < 0 || targets[n] >= K) return Status::kInvalidArgument;
  const double scale = static_cast<double>(grad_out[0]) / static_cast<double>(N);
  const size_t k_count = static_cast<size_t>(K);
  const size_t grain = k_count >= 4096 ? 1 : 4096 / k_count;
  parallel_for(static_cast<size_t>(N), grain, [&](size_t lo, size_t hi) {
    for (size_t n = lo; n < hi; ++n) {
      const float* row = logits + n * k_count;
      float* out = dlogits + n * k_count;
      // log(sum exp(row)) shifted by the row max (a NaN is the max), as cross_entropy.
      double m = row[0];
      for (size_t k = 1; k < k_count; ++k)
        if (row[k] > m || std::isnan(static_cast<double>(row[k]))) m = row[k];
      double s = 0;
      for (size_t k = 0; k < k_count; ++k) s += std::exp(static_cast<double>(row[k]) - m);
      const double lse = m + std::log(s);
      const size_t t = static_cast<size_t>(targets[n]);
      for (size_t k = 0; k < k_count; ++k) {
        const double p = std::exp(static_cast<double>(row[k]) - lse);
        out[k] = static_cast<float>(scale * (k == t ? p - 1.0 : p));
      }
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
