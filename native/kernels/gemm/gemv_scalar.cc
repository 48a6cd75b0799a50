#include "kernels/gemm/gemv.h"

namespace simdcnn {

void gemv_rows_scalar(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  // Four rows at a time for independent chains; each row's chain runs in increasing k, the order
  // of gemm_ukernel_4x8_scalar.
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t k = 0; k < K; ++k) {
      const float xk = x[k];
      s0 += xk * w0[k];
      s1 += xk * w1[k];
      s2 += xk * w2[k];
      s3 += xk * w3[k];
    }
    y[r] = s0;
    y[r + 1] = s1;
    y[r + 2] = s2;
    y[r + 3] = s3;
  }
  for (; r < rows; ++r) {
    const float* w = W + r * ldw;
    float s = 0;
    for (size_t k = 0; k < K; ++k) s += x[k] * w[k];
    y[r] = s;
  }
}

}  // namespace simdcnn
