// y[r] = dot(x[0..K), W[r*ldw .. r*ldw + K)) for r < rows: a matrix-vector product that streams
// W once, for dense layers with a small batch (where packing W for the GEMM would cost more than
// the product). The summation order depends only on K and the ISA.
#pragma once
#include <cstddef>

#include "core/arch.h"

namespace simdcnn {

// Dispatches on active_isa().
void gemv_rows(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y);

void gemv_rows_scalar(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y);
#if SIMDCNN_X86
void gemv_rows_avx2(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y);
void gemv_rows_avx512(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y);
#endif

}  // namespace simdcnn
