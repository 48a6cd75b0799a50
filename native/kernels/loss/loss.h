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

// Mean of (a[i] - b[i])^2 over n elements (NaN for n = 0, as PyTorch's mean of nothing).
Status mse_loss(const float* a, const float* b, int64_t n, double* loss);

}  // namespace simdcnn
