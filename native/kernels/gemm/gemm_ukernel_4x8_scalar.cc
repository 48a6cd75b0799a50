// Portable 4x8 microkernel; the reference for the SIMD ones (same accumulation order per element).
#include "kernels/gemm/gemm_ukernel.h"

namespace simdcnn {

void gemm_ukernel_4x8_scalar(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                             const GemmTileParams& p) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = p.load_c ? c[i * ldc + j] : 0.0f;
  for (size_t k = 0; k < kc; ++k) {
    const float* ak = a + k * MR;
    const float* bk = b + k * NR;
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += ak[i] * bk[j];
  }
  if (p.last) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) {
        float v = acc[i][j];
        if (p.row_bias) v += p.row_bias[i];
        if (p.col_bias) v += p.col_bias[j];
        if (p.clamp) {  // NaN propagates (the compares are false), as in PyTorch
          if (p.lo > v) v = p.lo;
          if (p.hi < v) v = p.hi;
        }
        acc[i][j] = v;
      }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
}

}  // namespace simdcnn
