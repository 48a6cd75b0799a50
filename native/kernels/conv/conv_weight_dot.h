// The weight gradient of a convolution with few weights per group (LeNet's 6x1x5x5 and 16x6x5x5) as
// dot products: dw[o][k] (+)= sum_j dy[o][j] * xp[offs[k] + j], where dy is the widened output
// gradient ([Mg, n], rows as wide as the split image's planes) and xp + offs[k] is tap k's im2col
// row, a contiguous slice of the split image (conv2d_backward.cc). Both operands run along the
// pixels, so the GEMM's packing of one of them transposed (most of its time at these sizes: 6 x 25
// outputs over ~900 pixels) is not needed; the sums stay in registers. Each output element is one
// dot product summed in a fixed order: results do not depend on the thread count.
#pragma once
#include <cstddef>
#include <cstdint>

namespace simdcnn {

using WeightDotFn = void (*)(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n,
                             float* dw, size_t ld_dw, bool accumulate);

void conv_weight_dot_scalar(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n,
                            float* dw, size_t ld_dw, bool accumulate);
void conv_weight_dot_avx2(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n,
                          float* dw, size_t ld_dw, bool accumulate);
void conv_weight_dot_avx512(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n,
                            float* dw, size_t ld_dw, bool accumulate);
void conv_weight_dot_neon(const float* dy, size_t M, const float* xp, const int64_t* offs, size_t K, size_t n,
                          float* dw, size_t ld_dw, bool accumulate);

// Groups with at most this many weights, over rows of at least this many pixels, take the dot
// products: each output pays a horizontal sum, so short rows or many outputs favour the GEMM
// (LeNet: conv1's 150 weights over ~900 pixels 3x faster as dots; conv2's 2400 over 136 pixels 4x
// slower).
constexpr size_t kWeightDotMaxOutputs = 1024;
constexpr size_t kWeightDotMinPixels = 256;

}  // namespace simdcnn
