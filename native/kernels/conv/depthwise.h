// Depthwise convolution of one plane: out[OH,OW] = act(bias + sum_{kh,kw} k[kh,kw] *
// in[oh*sH - pT + kh*dH, ow*sW - pL + kw*dW]) with zeros outside the input. Every element
// accumulates bias first, then (kh, kw) in increasing order.
#pragma once
#include <cstddef>

#include "core/arch.h"

namespace simdcnn {

struct DwPlaneArgs {
  const float* in;
  size_t H, W;
  const float* k;  // [kH, kW]
  size_t kH, kW;
  float bias;
  bool relu;
  float* out;
  size_t OH, OW;
  size_t sH, sW, pT, pL, dH, dW;
};

using DwPlaneFn = void (*)(const DwPlaneArgs& a);

void depthwise_plane_scalar(const DwPlaneArgs& a);
#if SIMDCNN_X86
void depthwise_plane_avx2(const DwPlaneArgs& a);
void depthwise_plane_avx512(const DwPlaneArgs& a);
#endif

}  // namespace simdcnn
