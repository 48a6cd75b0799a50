// Strided block copy: the data movement of a Concat whose inputs cannot be written in place.
#pragma once
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// For b < blocks: y[b * y_stride + i] = x[b * x_stride + i], i < block_len. Strides are >= block_len
// (blocks never overlap) and x, y are disjoint; kInvalidArgument otherwise (checked on sizes only:
// the caller guarantees the buffers hold (blocks - 1) * stride + block_len floats).
Status copy_blocks(const float* x, float* y, int64_t blocks, int64_t block_len, int64_t x_stride, int64_t y_stride);

}  // namespace simdcnn
