// Portable 4x8 tile (4 pixels x 8 channels); the spec for the SIMD tiles: one multiply-add per k
// in increasing k, then + bias, + residual, ReLU.
#include "kernels/conv/conv2d_packed_ukernel.h"

namespace simdcnn {

void conv_packed_tile_4x8_scalar(const ConvTileArgs& a) {
  constexpr size_t MR = 4, NR = 8;
  const size_t nr = a.nr;  // always 8 (VS = NR)
  float acc[MR][NR];
  for (size_t i = 0; i < MR; ++i)
    for (size_t j = 0; j < NR; ++j) acc[i][j] = a.first ? 0.0f : a.acc[i * nr + j];
  const float* r0 = a.rows[0];
  const float* r1 = a.rows[1];
  const float* r2 = a.rows[2];
  const float* r3 = a.rows[3];
  const float* b = a.b;
  for (size_t k = 0; k < a.kc; ++k, b += nr) {
    const int64_t o = a.offs[k];
    const float x0 = r0[o], x1 = r1[o], x2 = r2[o], x3 = r3[o];
    for (size_t j = 0; j < NR; ++j) {
      acc[0][j] += x0 * b[j];
      acc[1][j] += x1 * b[j];
      acc[2][j] += x2 * b[j];
      acc[3][j] += x3 * b[j];
    }
  }
  if (!a.last) {
    for (size_t i = 0; i < MR; ++i)
      for (size_t j = 0; j < NR; ++j) a.acc[i * nr + j] = acc[i][j];
    return;
  }
  for (size_t j = 0; j < a.w; ++j) {
    float* o = a.out + j * a.ohw;
    const float* res = a.residual ? a.residual + j * a.ohw : nullptr;
    for (size_t i = 0; i < a.h; ++i) {
      float v = acc[i][j];
      if (a.bias) v += a.bias[j];
      if (res) v += res[i];
      if (a.clamp) {  // NaN propagates (the compares are false), as in PyTorch
        if (a.lo > v) v = a.lo;
        if (a.hi < v) v = a.hi;
      }
      o[i] = v;
    }
  }
}

}  // namespace simdcnn
