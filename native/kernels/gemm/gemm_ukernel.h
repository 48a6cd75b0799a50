// GEMM microkernels: one full MR x NR output tile from packed panels.
//   a: kc x MR floats (k-major), b: kc x NR floats (k-major), c: MR rows of NR floats, row stride ldc.
// The accumulators start from c (load_c) or zero, take one FMA per k in increasing k, and on the
// last K block get row_bias[0..MR) / col_bias[0..NR) (either may be null) and the clamp before
// the store. Partial tiles are the driver's job (it passes a full-size temporary tile).
#pragma once
#include <cstddef>

#include "core/arch.h"

namespace simdcnn {

struct GemmTileParams {
  bool load_c;
  bool last;  // last K block: apply biases and activation
  bool clamp;  // min(hi, max(lo, v)), NaN kept: ReLU (0, +inf) and Clip
  float lo, hi;
  const float* row_bias;
  const float* col_bias;
};

using GemmUkernelFn = void (*)(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                               const GemmTileParams& p);

struct GemmKernelConfig {
  GemmUkernelFn ukernel;
  size_t mr, nr;
  size_t kc;  // K block: a kc x NR B panel stays in L1 across the MR panels of one MC block
  size_t mc;  // M block (multiple of mr): mc x kc of packed A stays in L2
  // Optional: the first `cols` (a multiple of `narrow_step`, < nr) columns of a tile whose B panel
  // still has stride nr, with the same per-element arithmetic as ukernel. Narrow column tails (a
  // 7x7 map gives 61 columns: one full 48-wide panel and 13 more) then skip most of the dead lanes.
  void (*narrow)(size_t cols, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                 const GemmTileParams& p) = nullptr;
  size_t narrow_step = 0;
  // Optional: a tile's first `cols` (narrow_step multiple, <= nr) columns with A read straight from
  // a row-major matrix (row i, k at a[i*lda + k]) instead of a packed panel; same arithmetic.
  void (*direct)(size_t cols, size_t kc, const float* a, size_t lda, const float* b, float* c, size_t ldc,
                 const GemmTileParams& p) = nullptr;
  // Optional: a full MR x NR tile with A as in `direct` and B read in place too (row k at b + k*ldb),
  // same arithmetic; prefetch: also request the B lines the tiles to the right will read. For small
  // K, where packing B costs as much as the multiply (see gemm.cc).
  void (*unpacked)(size_t kc, const float* a, size_t lda, const float* b, size_t ldb, bool prefetch, float* c,
                   size_t ldc, const GemmTileParams& p) = nullptr;
};

constexpr size_t kGemmMaxMr = 16;
constexpr size_t kGemmMaxNr = 64;

void gemm_ukernel_4x8_scalar(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                             const GemmTileParams& p);
#if SIMDCNN_X86
void gemm_ukernel_6x16_avx2(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                            const GemmTileParams& p);
void gemm_ukernel_8x48_avx512(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                              const GemmTileParams& p);
// cols = 16, 32 or 48; A unpacked (see GemmKernelConfig::direct).
void gemm_ukernel_8x48_avx512_direct(size_t cols, size_t kc, const float* a, size_t lda, const float* b,
                                     float* c, size_t ldc, const GemmTileParams& p);
// A and B both unpacked, full 8x48 tiles (see GemmKernelConfig::unpacked).
void gemm_ukernel_8x48_avx512_unpacked(size_t kc, const float* a, size_t lda, const float* b, size_t ldb,
                                       bool prefetch, float* c, size_t ldc, const GemmTileParams& p);
// cols = 16 or 32 of an 8x48 tile (see GemmKernelConfig::narrow).
void gemm_ukernel_8x48_avx512_narrow(size_t cols, size_t kc, const float* a, const float* b, float* c,
                                     size_t ldc, const GemmTileParams& p);
#endif
#if SIMDCNN_ARM64
void gemm_ukernel_8x12_neon(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                            const GemmTileParams& p);
#endif

}  // namespace simdcnn
