#include "kernels/gemm/gemm_pack.h"

namespace simdcnn {

void gemm_copy_rows_scalar(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst) {
  for (size_t k = 0; k < kc; ++k) {
    const float* s = base + offs[k];
    float* d = dst + k * nr;
    for (size_t j = 0; j < w; ++j) d[j] = s[j];
    for (size_t j = w; j < nr; ++j) d[j] = 0.0f;
  }
}

void gemm_copy_cols_scalar(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst) {
  for (size_t j = 0; j < w; ++j) {
    const float* s = src + j * ld;
    for (size_t k = 0; k < kc; ++k) dst[k * nr + j] = s[k];
  }
  for (size_t k = 0; k < kc; ++k)
    for (size_t j = w; j < nr; ++j) dst[k * nr + j] = 0.0f;
}

}  // namespace simdcnn
