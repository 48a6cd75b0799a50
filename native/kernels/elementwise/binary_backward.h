// Gradients of `binary` (as lib/backend/js/elementwise-backward.ts) and per-channel sums.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "kernels/elementwise/binary.h"

namespace simdcnn {

// out[c] = sum over n < N and i < inner of dy[(n * C + c) * inner + i]: a convolution's bias
// gradient, the gradient of a per-channel operand. Split across threads by channel only, so the
// bits do not depend on the thread count. out must not overlap dy.
Status channel_sum(const float* dy, float* out, int64_t N, int64_t C, int64_t inner);

// Gradients of y = a op b with a viewed as [N, C, inner], given dy (a's shape):
//   add da = dy, db = dy;  sub da = dy, db = -dy;  mul da = dy * b, db = dy * a;
//   div da = dy / b, db = -dy * a / (b * b).
// kSame: b and db have a's shape, elementwise, each operation rounding once in float32; an output
// may be one of the inputs itself. kChannel: b and db have C entries and db[c] is the sum over
// n and i (a channel_sum of the elementwise term, in double; for div -(sum dy * a) / b[c]^2).
// da or db may be null (not computed). Outputs are overwritten.
Status binary_backward(const float* a, const float* b, const float* dy, float* da, float* db, int64_t N, int64_t C,
                       int64_t inner, BinaryKind kind, BroadcastMode mode);

// Per-ISA range kernels (binary_backward_<isa>.cc).
// da[i], db[i] for i < n (either may be null); b_scalar: b[0] for every i (then db must be null).
using BinaryBackwardRangeFn = void (*)(const float* a, const float* b, const float* dy, float* da, float* db,
                                       size_t n, BinaryKind kind, bool b_scalar);
// sum of x[i] (y null) or of x[i] * y[i] (each product rounded to float32) over n elements: float
// lanes over blocks of 16 vectors, each block's lanes added into a double in lane order.
using SumRangeFn = double (*)(const float* x, const float* y, size_t n);

void binary_backward_range_scalar(const float* a, const float* b, const float* dy, float* da, float* db,
                                  size_t n, BinaryKind kind, bool b_scalar);
void binary_backward_range_avx2(const float* a, const float* b, const float* dy, float* da, float* db,
                                size_t n, BinaryKind kind, bool b_scalar);
void binary_backward_range_avx512(const float* a, const float* b, const float* dy, float* da, float* db,
                                  size_t n, BinaryKind kind, bool b_scalar);
void binary_backward_range_neon(const float* a, const float* b, const float* dy, float* da, float* db,
                                size_t n, BinaryKind kind, bool b_scalar);
double sum_range_scalar(const float* x, const float* y, size_t n);
double sum_range_avx2(const float* x, const float* y, size_t n);
double sum_range_avx512(const float* x, const float* y, size_t n);
double sum_range_neon(const float* x, const float* y, size_t n);

}  // namespace simdcnn
