// The geometry array every convolution binding takes (conv2d, its backward, the planned Winograd
// and packed paths): [N, C, H, W, outC, kH, kW, strideH, strideW, padTop, padLeft, padBottom,
// padRight, dilationH, dilationW, groups], read and checked once here.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "kernels/conv/conv2d.h"

namespace simdcnn {
namespace binding {

// Reads geom (argument idx) for `op`: every entry but the paddings >= 1, groups divides C and outC,
// a non-empty output; RangeError/TypeError naming op and entry otherwise. Fills the output size.
Conv2dParams read_conv_geom(const Napi::CallbackInfo& info, size_t idx, const char* op, int64_t* oh, int64_t* ow);

// "[a,b]" for messages.
std::string pair_string(int64_t a, int64_t b);

// The shapes of x, w, b and y for those parameters (for expect_length).
struct ConvDims {
  int64_t x[4], w[4], b[1], y[4];
};
ConvDims conv_dims(const Conv2dParams& p, int64_t oh, int64_t ow);

// The arguments of the planned convolutions (conv2dPacked, conv2dWinograd, conv2dPointwise):
// (x, weights, b, residual, out, geom, act), read (types and geom checked) but not yet checked
// against each other; p carries the activation.
struct PlannedConvArgs {
  F32View x, weights, b, res, out;
  Conv2dParams p;
  int64_t oh = 0, ow = 0;
};
PlannedConvArgs read_planned_conv_args(const Napi::CallbackInfo& info, const char* op, const char* weights_name);

}  // namespace binding
}  // namespace simdcnn
