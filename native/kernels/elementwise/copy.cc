#include "kernels/elementwise/copy.h"

#include <cstring>

namespace simdcnn {

Status copy_blocks(const float* x, float* y, int64_t blocks, int64_t block_len, int64_t x_stride, int64_t y_stride) {
  if (blocks < 0 || block_len < 0) return Status::kInvalidArgument;
  if (blocks == 0 || block_len == 0) return Status::kOk;
  if (x == nullptr || y == nullptr) return Status::kInvalidArgument;
  if (blocks > 1 && (x_stride < block_len || y_stride < block_len)) return Status::kInvalidArgument;
  // memcpy is the fastest copy the platform has; one block is one contiguous run of floats.
  for (int64_t b = 0; b < blocks; ++b) {
    std::memcpy(y + b * y_stride, x + b * x_stride, static_cast<size_t>(block_len) * sizeof(float));
  }
  return Status::kOk;
}

}  // namespace simdcnn
