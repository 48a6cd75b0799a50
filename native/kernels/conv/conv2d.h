// 2-D convolution, NCHW, PyTorch semantics (cross-correlation).
//   x [N, C, H, W], w [outC, C/groups, kH, kW], bias [outC] or null -> out [N, outC, OH, OW]
//   OH = floor((H + padTop + padBottom - dilationH*(kH-1) - 1) / strideH) + 1 (OW likewise).
// Paths: depthwise (groups == C > 1, any multiplier outC = m*C) as direct SIMD loops; 1x1 stride-1
// unpadded straight into GEMM (the image is already the [C, H*W] B matrix); otherwise an implicit
// im2col per image and group: the GEMM packs its [C/g*kH*kW, OH*OW] B panels straight from a
// zero-padded, stride-phase-split copy of the image (one contiguous copy per panel row, see
// conv2d.cc), never materialising the column matrix. Bias and ReLU are fused into the GEMM
// epilogue; other activations run over each finished output block. Results do not depend on the thread count.
#pragma once
#include <cstddef>

#include "core/status.h"

namespace simdcnn {

struct Conv2dParams {
  size_t N = 1, C = 1, H = 1, W = 1;
  size_t outC = 1, kH = 1, kW = 1;
  size_t strideH = 1, strideW = 1;
  size_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  size_t dilationH = 1, dilationW = 1;
  size_t groups = 1;
  // Activation after bias (and residual): 0 none, 1 + UnaryKind otherwise (act/unary.h, 1 relu),
  // with that kind's parameters.
  int act = 0;
  float act_alpha = 0.0f, act_beta = 0.0f;
};

// False when a parameter is out of range (zero size/stride/dilation/groups, groups not dividing C
// and outC, act not a valid code) or the output would be empty.
bool conv2d_output_size(const Conv2dParams& p, size_t* oh, size_t* ow);

Status conv2d(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* out);

// A 1x1 stride-1 unpadded convolution with a residual (planned inference: a bottleneck's last
// layer): out = act(residual + conv(x, w) + bias) through the GEMM with C = residual as its starting
// value (accumulate). residual (out's shape) may be out itself, so a block's sum is written over its
// dead input with no extra pass; a distinct residual is copied into out first. Null residual: conv2d.
// kInvalidArgument unless the geometry is pointwise.
Status conv2d_pointwise(const Conv2dParams& p, const float* x, const float* w, const float* bias,
                        const float* residual, float* out);

}  // namespace simdcnn
