// Scalar losses, reduced in double in a fixed order (results do not depend on the thread count).
#pragma once
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// Mean over the batch of -log_softmax(logits[n, :])[targets[n]]; logits [N, K], N, K >= 1.
// A target outside [0, K) gives kInvalidArgument and its row in *bad_index (when non-null);
// the binding checks targets first so it can name the index and value.
Status cross_entropy(const float* logits, const int32_t* targets, int64_t N, int64_t K, double* loss,
                     int64_t* bad_index);

// cross_entropy's mean loss stored to loss[0] as float32 (the capturable form: the result stays in
// an array instead of returning to JS).
Status cross_entropy_into(const float* logits, const int32_t* targets, int64_t N, int64_t K, float* loss);

// Gradient of cross_entropy scaled by the upstream gradient grad_out[0], read when the kernel runs:
//   dlogits[n, k] = grad_out[0] / N * (softmax(logits[n])[k] - (k == targets[n]))
// in double per row (rows split across threads). dlogits may be logits itself; a target outside
// [0, K) gives kInvalidArgument before anything is written.
Status cross_entropy_backward(const float* logits, const int32_t* targets, int64_t N, int64_t K,
                              const float* grad_out, float* dlogits);

// Mean of (a[i] - b[i])^2 over n elements (NaN for n = 0, as PyTorch's mean of nothing).
Status mse_loss(const float* a, const float* b, int64_t n, double* loss);

}  // namespace simdcnn
