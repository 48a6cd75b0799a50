// One packed panel (NR = 48, the 8x48 AVX-512 GEMM's width): three zmm per row, one FMA per k.
#include "kernels/gemm/linear_packed.h"

#if SIMDCNN_X86
#include <immintrin.h>

namespace simdcnn {
namespace {

template <size_t R>
void panel_rows(size_t K, const float* x, size_t ldx, const float* p, float* y, size_t ldy, size_t cols) {
  __m512 acc[R][3];
  for (size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_ps();
  for (size_t k = 0; k < K; ++k) {
    const float* pk = p + k * 48;
    const __m512 w0 = _mm512_loadu_ps(pk), w1 = _mm512_loadu_ps(pk + 16), w2 = _mm512_loadu_ps(pk + 32);
    for (size_t r = 0; r < R; ++r) {
      const __m512 xr = _mm512_set1_ps(x[r * ldx + k]);
      acc[r][0] = _mm512_fmadd_ps(xr, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(xr, w1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(xr, w2, acc[r][2]);
    }
  }
  for (size_t r = 0; r < R; ++r)
    for (size_t j = 0; j < 3; ++j) {
      const size_t lo = j * 16;
      if (cols <= lo) break;
      const size_t n = cols - lo < 16 ? cols - lo : 16;
      _mm512_mask_storeu_ps(y + r * ldy + lo, static_cast<__mmask16>((1u << n) - 1u), acc[r][j]);
    }
}

}  // namespace

void linear_panel_avx512(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y,
                         size_t ldy, size_t cols) {
  switch (rows) {
    case 1: panel_rows<1>(K, x, ldx, panel, y, ldy, cols); break;
    case 2: panel_rows<2>(K, x, ldx, panel, y, ldy, cols); break;
    case 3: panel_rows<3>(K, x, ldx, panel, y, ldy, cols); break;
    default: panel_rows<4>(K, x, ldx, panel, y, ldy, cols); break;
  }
}

}  // namespace simdcnn
#endif
