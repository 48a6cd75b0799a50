#include "kernels/gemm/gemm_pack.h"
#include "kernels/gemm/gemm_transpose_x86.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {

void gemm_copy_rows_avx2(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst) {
  if (w == 16 && nr == 16) {  // full panel of the 6x16 kernel
    for (size_t k = 0; k < kc; ++k) {
      const float* s = base + offs[k];
      _mm256_storeu_ps(dst + k * 16, _mm256_loadu_ps(s));
      _mm256_storeu_ps(dst + k * 16 + 8, _mm256_loadu_ps(s + 8));
    }
    return;
  }
  for (size_t k = 0; k < kc; ++k) {
    const float* s = base + offs[k];
    float* d = dst + k * nr;
    size_t j = 0;
    for (; j + 8 <= w; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
    for (; j < w; ++j) d[j] = s[j];
    for (; j < nr; ++j) d[j] = 0.0f;
  }
}

void gemm_copy_cols_avx2(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst) {
  copy_cols_8x8(kc, src, ld, w, nr, dst);
}

}  // namespace simdcnn
#endif
