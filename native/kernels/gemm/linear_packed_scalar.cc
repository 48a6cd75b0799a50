// One packed panel (NR = 8, the 4x8 scalar GEMM's width); same per-element order as that kernel.
#include "kernels/gemm/linear_packed.h"

namespace simdcnn {

void linear_panel_scalar(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y,
                         size_t ldy, size_t cols) {
  constexpr size_t NR = 8;
  for (size_t r = 0; r < rows; ++r) {
    float acc[NR] = {0, 0, 0, 0, 0, 0, 0, 0};
    const float* xr = x + r * ldx;
    for (size_t k = 0; k < K; ++k) {
      const float xk = xr[k];
      const float* pk = panel + k * NR;
      for (size_t j = 0; j < NR; ++j) acc[j] += xk * pk[j];
    }
    for (size_t j = 0; j < cols; ++j) y[r * ldy + j] = acc[j];
  }
}

}  // namespace simdcnn
