// Strided copy of contiguous runs: the data movement of Concat (inputs copied into their slices),
// Transpose and Slice. Each run is `len` floats; the runs form a grid of up to kCopyMaxRank axes.
#pragma once
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

constexpr int kCopyMaxRank = 6;

struct CopyAxis {
  int64_t count;     // runs along this axis
  int64_t x_stride;  // floats between consecutive runs in x
  int64_t y_stride;  // and in y
};

// For every index (i_0, ..., i_{rank-1}) of the grid (axis 0 outermost):
//   y[sum i_k * y_stride_k + j] = x[sum i_k * x_stride_k + j],  j < len.
// kInvalidArgument for rank outside [0, kCopyMaxRank], negative counts, strides or len, or null
// pointers with work to do. Bounds are the caller's (the binding checks them against the buffers).
Status copy_strided(const float* x, float* y, int64_t len, const CopyAxis* axes, int rank);

// y[i] = value for i < n (split across threads for large n).
Status fill_floats(float* y, int64_t n, float value);
// y[i] = x[i] for i < n; x and y are the same array or disjoint.
Status copy_floats(const float* x, float* y, int64_t n);

}  // namespace simdcnn
