// Portable row kernel (see ConvRowArgs): the arithmetic of the 4x8 scalar tile, one pixel at a time.
#include "kernels/conv/conv2d_packed_ukernel.h"

namespace simdcnn {

void conv_packed_row_scalar(const ConvRowArgs& a) {
  for (size_t i = 0; i < a.n; ++i) {
    float acc[kConvRowMaxC] = {};
    const float* s = a.src + i;
    const float* b = a.b;
    for (size_t k = 0; k < a.kc; ++k, b += a.nr) {
      const float x = s[a.offs[k]];
      for (size_t j = 0; j < a.w; ++j) acc[j] += x * b[j];
    }
    for (size_t j = 0; j < a.w; ++j) {
      float v = acc[j];
      if (a.bias) v += a.bias[j];
      if (a.residual) v += a.residual[j * a.ohw + i];
      if (a.clamp) {  // NaN propagates (the compares are false), as in PyTorch
        if (a.lo > v) v = a.lo;
        if (a.hi < v) v = a.hi;
      }
      a.out[j * a.ohw + i] = v;
    }
  }
}

void gather_even_scalar(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = src[2 * i];
}

}  // namespace simdcnn
