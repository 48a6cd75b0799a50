// y[r] = dot(x[0..K), W[r*ldw .. r*ldw + K)) for r < rows: a matrix-vector product that streams
// W once, for dense layers with a small batch (where packing W for the GEMM would cost more than
// the product).
//
// Batch invariance: every y[r] is ONE multiply-add chain over k = 0..K-1 starting from 0, exactly
// as the GEMM microkernel of the same ISA accumulates an output element (fused multiply-add on the
// FMA ISAs, separate multiply and add on the scalar one). So a dense layer gives bit-identical
// rows whether the batch goes through this path or the GEMM, and whatever the thread split.
// Vector ISAs put 16 (or 8) rows in the lanes and gather W's columns.
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
#if SIMDCNN_ARM64
void gemv_rows_neon(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y);
#endif

}  // namespace simdcnn
