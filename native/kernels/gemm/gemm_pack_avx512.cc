#include "kernels/gemm/gemm_pack.h"
#include "kernels/gemm/gemm_transpose_x86.h"

#if SIMDCNN_X86
#include <immintrin.h>

// GCC 12 warns about its own AVX-512 intrinsics (the _mm512_undefined_ps self-init; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace simdcnn {

void gemm_copy_rows_avx512(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst) {
  if (w == 48 && nr == 48) {  // full panel of the 8x48 kernel: 3 loads + 3 stores per row
    for (size_t k = 0; k < kc; ++k) {
      const float* s = base + offs[k];
      float* d = dst + k * 48;
      _mm512_storeu_ps(d, _mm512_loadu_ps(s));
      _mm512_storeu_ps(d + 16, _mm512_loadu_ps(s + 16));
      _mm512_storeu_ps(d + 32, _mm512_loadu_ps(s + 32));
    }
    return;
  }
  for (size_t k = 0; k < kc; ++k) {
    const float* s = base + offs[k];
    float* d = dst + k * nr;
    for (size_t j = 0; j < nr; j += 16) {
      // Lanes past w read nothing (masked) and store zeros.
      const size_t left = j < w ? w - j : 0;
      const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
      if (j + 16 <= nr) {
        _mm512_storeu_ps(d + j, _mm512_maskz_loadu_ps(m, s + j));
      } else {
        const __mmask16 st = static_cast<__mmask16>((1u << (nr - j)) - 1u);
        _mm512_mask_storeu_ps(d + j, st, _mm512_maskz_loadu_ps(m, s + j));
      }
    }
  }
}

void gemm_copy_cols_avx512(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst) {
  copy_cols_8x8(kc, src, ld, w, nr, dst);
}

}  // namespace simdcnn
#endif
