// Row-gather packing primitive for B panels: dst (kc rows of nr floats) gets, in row k, the w
// floats at base + offs[k] followed by nr - w zeros. Covers strided matrices (offs[k] = k*ld) and
// implicit im2col over a padded image (offs[k] jumps between kernel taps and channels).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arch.h"

namespace simdcnn {

// Dispatches on active_isa().
void gemm_copy_rows(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst);

// The transposing counterpart, for op(B) = B^T and for A panels: dst[k*nr + j] = src[j*ld + k]
// for j < w, zero for w <= j < nr (k < kc). Dispatches on active_isa().
void gemm_copy_cols(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst);
void gemm_copy_cols_scalar(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst);
#if SIMDCNN_X86
void gemm_copy_cols_avx2(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst);
void gemm_copy_cols_avx512(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst);
#endif
#if SIMDCNN_ARM64
void gemm_copy_cols_neon(size_t kc, const float* src, size_t ld, size_t w, size_t nr, float* dst);
void gemm_copy_rows_neon(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst);
#endif

void gemm_copy_rows_scalar(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst);
#if SIMDCNN_X86
void gemm_copy_rows_avx2(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst);
void gemm_copy_rows_avx512(size_t kc, const float* base, const int64_t* offs, size_t w, size_t nr, float* dst);
#endif

}  // namespace simdcnn
