#include "kernels/gemm/gemv.h"

namespace simdcnn {

void gemv_rows_scalar(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* w = W + r * ldw;
    // Four partial sums (k mod 4) break the add latency chain; combined in a fixed order.
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t k = 0;
    for (; k + 4 <= K; k += 4) {
      s0 += x[k] * w[k];
      s1 += x[k + 1] * w[k + 1];
      s2 += x[k + 2] * w[k + 2];
      s3 += x[k + 3] * w[k + 3];
    }
    for (; k < K; ++k) s0 += x[k] * w[k];
    y[r] = (s0 + s1) + (s2 + s3);
  }
}

}  // namespace simdcnn
