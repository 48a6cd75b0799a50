// Microkernels of conv2d_packed (see conv2d_packed.h): one tile of MR output pixels x up to NR
// output channels over one K block.
//   acc[i][j] (+)= sum_{k < kc} rows[i][offs[k]] * b[k*nr + j]
// where nr (a multiple of the ISA's VS, <= NR) is the panel width: the packed weights of this K
// block are kc rows of nr floats. The accumulators start from zero (first) or from the partial-sum
// tile `acc` (MR rows of nr floats), take one FMA per k in increasing k, and end in `acc` (!last)
// or, on the last K block, go through the epilogue:
//   out[j*ohw + i] = clamp(acc[i][j] + bias[j] + residual[j*ohw + i])   for i < h, j < w
// (clamp: min(hi, max(lo, v)), NaN kept, when `clamp`: ReLU and Clip; act/unary.h's act_clamp)
// (bias, residual may be null; out and residual point at the tile's first channel and pixel). The
// per-element arithmetic does not depend on h, w or nr, so tails give the same bits as full tiles.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/arch.h"

namespace simdcnn {

struct ConvTileArgs {
  size_t kc;
  const int64_t* offs;      // kc tap offsets (floats), relative to rows[i]
  const float* const* rows;  // MR pixel window origins (pixels past h repeat a valid one)
  const float* b;            // kc x nr packed weights
  size_t nr;                 // panel width: multiple of VS, <= NR
  float* acc;                // MR x nr partial sums (read unless first, written unless last)
  bool first, last;
  // Optional (null: none): per k, one 64-byte line at pf + 16*k is prefetched into L2. The driver
  // points it at the next K block's weights, so that late layers' megabytes of cold weights arrive
  // from DRAM while this block computes instead of stalling the next block's first tile.
  const float* pf;
  // Epilogue (last only).
  const float* bias;      // [w] or null
  const float* residual;  // or null; element (j, i) at residual[j*ohw + i]
  float* out;             // element (j, i) at out[j*ohw + i]
  size_t ohw;
  size_t h, w;  // valid pixels (1..MR) and channels (1..nr)
  bool clamp;
  float lo, hi;
};

using ConvTileFn = void (*)(const ConvTileArgs& a);

// Row microkernels for layers with few output channels (w <= kConvRowMaxC) and stride 1 along W:
// the vectors run along an output row (consecutive pixels have consecutive window origins), one
// accumulator per channel, so no lane is spent on channels the layer does not have (a 6-channel
// layer fills 6 of a panel tile's 16 or 32 lanes). The whole K in one block:
//   out[j*ohw + i] = act(sum_{k < kc} src[offs[k] + i] * b[k*nr + j] + bias[j] + residual[j*ohw + i])
// for pixels i < n and channels j < w, each a chain of one multiply-add per k in increasing k, then
// the same epilogue as the tiles: the same bits as the tile microkernel of the same ISA.
struct ConvRowArgs {
  size_t kc;
  const int64_t* offs;  // kc tap offsets (floats), relative to src + i
  const float* src;     // window origin of the row's first pixel
  size_t n;             // pixels in the row
  const float* b;       // kc x nr packed weights (one panel)
  size_t nr;
  size_t w;               // channels, 1..kConvRowMaxC
  const float* bias;      // [w] or null
  const float* residual;  // or null; element (j, i) at residual[j*ohw + i]
  float* out;             // element (j, i) at out[j*ohw + i]
  size_t ohw;
  bool clamp;  // as ConvTileArgs
  float lo, hi;
};

using ConvRowFn = void (*)(const ConvRowArgs& a);

constexpr size_t kConvRowMaxC = 8;

// Calls f(std::integral_constant<int, w>{}) for w in 1..kConvRowMaxC (larger w as 8): the row
// kernels are unrolled over their channels. Each ISA file instantiates it with its own lambda, so no
// copy compiled with one ISA's flags can stand in for another's.
template <class F>
inline void with_row_channels(size_t w, F&& f) {
  switch (w) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 5: f(std::integral_constant<int, 5>{}); break;
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 7: f(std::integral_constant<int, 7>{}); break;
    default: f(std::integral_constant<int, 8>{}); break;
  }
}

void conv_packed_row_scalar(const ConvRowArgs& a);
#if SIMDCNN_X86
void conv_packed_row_avx2(const ConvRowArgs& a);
void conv_packed_row_avx512(const ConvRowArgs& a);
#endif
#if SIMDCNN_ARM64
void conv_packed_row_neon(const ConvRowArgs& a);
#endif

// dst[i] = src[2*i] for i < n, reading src[0 .. 2n-1) only: the stride-2 column phases of the row
// kernels' input slabs (conv2d_packed.cc), beside the row kernels of each ISA (the driver itself is
// compiled for the baseline ISA, where this gather was half of a stride-2 layer's time).
using EvenGatherFn = void (*)(float* dst, const float* src, size_t n);
void gather_even_scalar(float* dst, const float* src, size_t n);
#if SIMDCNN_X86
void gather_even_avx2(float* dst, const float* src, size_t n);
void gather_even_avx512(float* dst, const float* src, size_t n);
#endif
#if SIMDCNN_ARM64
void gather_even_neon(float* dst, const float* src, size_t n);
#endif

constexpr size_t kConvPackedMaxMr = 8;
constexpr size_t kConvPackedMaxNr = 64;

void conv_packed_tile_4x8_scalar(const ConvTileArgs& a);
#if SIMDCNN_X86
void conv_packed_tile_6x16_avx2(const ConvTileArgs& a);
void conv_packed_tile_7x32_avx512(const ConvTileArgs& a);
#endif
#if SIMDCNN_ARM64
void conv_packed_tile_8x12_neon(const ConvTileArgs& a);
#endif

}  // namespace simdcnn
