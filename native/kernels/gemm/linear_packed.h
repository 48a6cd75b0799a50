// Dense layers from weights packed once (planned inference). W [outF, inF] is stored as
// ceil(outF / NR) panels of inF x NR floats (panel p, row k, lane j = W[p*NR + j][k], zero past
// outF), NR being the active ISA's GEMM tile width: the GEMM's B panels for every K block are then
// slices of it, and a small batch streams it with contiguous vector loads (the unpacked gemv has
// to gather W's columns). Every output is one multiply-add chain over k = 0..inF-1 from 0, as in
// the GEMM, so a row's result does not depend on the batch size or the thread count.
#pragma once
#include <cstddef>

#include "core/arch.h"
#include "core/status.h"

namespace simdcnn {

// Floats linear_pack_weights writes for this layer on the active ISA (0 on overflow).
size_t linear_packed_size(size_t inF, size_t outF);

Status linear_pack_weights(size_t inF, size_t outF, const float* w, float* packed);

// out[N, outF] = act(x[N, inF] * W^T + b); b may be null; act: a code of act/unary.h (0 none,
// 1 relu, ...) with its parameters.
Status linear_packed(size_t N, size_t inF, size_t outF, const float* x, const float* packed, const float* b,
                     int act, float act_alpha, float act_beta, float* out);

// Rows [0, rows) (rows <= 4) of one panel: y[r*ldy + j] = sum_k x[r*ldx + k] * panel[k*NR + j] for
// j < cols (<= NR). Per ISA; NR is the ISA's GEMM NR.
using LinearPanelFn = void (*)(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y,
                               size_t ldy, size_t cols);
void linear_panel_scalar(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y,
                         size_t ldy, size_t cols);
#if SIMDCNN_X86
void linear_panel_avx2(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y, size_t ldy,
                       size_t cols);
void linear_panel_avx512(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y,
                         size_t ldy, size_t cols);
#endif
#if SIMDCNN_ARM64
void linear_panel_neon(size_t K, size_t rows, const float* x, size_t ldx, const float* panel, float* y, size_t ldy,
                       size_t cols);
#endif

}  // namespace simdcnn
