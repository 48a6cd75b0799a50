#include <cmath>

#include "core/shape.h"
#include "kernels/loss/loss.h"

namespace simdcnn {

Status cross_entropy(const float* logits, const int32_t* targets, int64_t N, int64_t K, double* loss,
                     int64_t* bad_index) {
  int64_t total = 0;
  if (N < 1 || K < 1 || !checked_mul(N, K, &total) || !logits || !targets || !loss)
    return Status::kInvalidArgument;
  for (int64_t n = 0; n < N; ++n) {
    if (targets[n] < 0 || targets[n] >= K) {
      if (bad_index) *bad_index = n;
      return Status::kInvalidArgument;
    }
  }
  // Serial: a batch of logits is small next to the layers that produced it, and one fixed order
  // keeps the sum reproducible.
  double sum = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* row = logits + n * K;
    double m = row[0];
    for (int64_t k = 1; k < K; ++k)
      if (row[k] > m || std::isnan(static_cast<double>(row[k]))) m = row[k];
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<double>(row[k]) - m);
    // -log_softmax[t] = log(sum exp(x - m)) + m - x[t]
    sum += std::log(s) + m - static_cast<double>(row[targets[n]]);
  }
  *loss = sum / static_cast<double>(N);
  return Status::kOk;
}

}  // namespace simdcnn
