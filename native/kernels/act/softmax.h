// Softmax / log-softmax along the middle axis of [outer, dim, inner] (PyTorch's softmax(x, d) with
// outer = prod(shape[:d]), inner = prod(shape[d+1:])). Max-subtracted and accumulated in double,
// one column per task, so results are stable for large logits and independent of thread count.
#pragma once
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// y may alias x. dim must be >= 1 when outer * inner > 0.
Status softmax(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner, bool log);

}  // namespace simdcnn
