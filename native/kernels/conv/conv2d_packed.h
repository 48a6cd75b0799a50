// 2-D convolution (NCHW, PyTorch semantics, any groups) from weights packed once, for planned
// inference: out = act(conv(x, w) + bias + residual).
//
// Computed spatial-major, per image and group (a "unit": in NCHW group g of image n is the
// contiguous block n*groups + g of x, out and residual, so a grouped layer is a groups-1
// convolution of C/groups -> outC/groups channels over N*groups units, each with its group's
// weights): out^T[OH*OW, Mg] = col^T[OH*OW, K] * Wt[K, Mg] with K = C/groups*kH*kW taps in the
// weights' own order (c, kh, kw). The microkernel tile is MR output pixels
// x NR output channels (AVX-512 7x32, AVX2 6x16, NEON 8x12, scalar 4x8): output pixels are numbered linearly
// over OH*OW, so a 7x7 map is exactly 7 tiles of 7 and no tile is wasted on padded row ends.
// col^T is never materialised: the tile reads tap k of pixel i straight from the input at
// rows[i] + offs[k], with rows[i] the pixel's window origin (stride folded in) and offs[k] the
// tap's offset (dilation folded in). With padding, each task first copies the input rows its
// pixel block needs into a small zero-padded slab. Weights are packed once, per group, into
// NR-channel panels (see conv2d_packed_size); the epilogue adds bias, residual and ReLU and writes
// NCHW, transposing the tile in registers on the way out.
//
// Every output element is one chain of FMAs over k = 0..K-1 in order (partial sums between K
// blocks go through memory exactly), then + bias, + residual, activation: results do not depend on
// the thread count, the blocking or the batch size (images are independent).
#pragma once
#include <cstddef>

#include "core/status.h"
#include "kernels/conv/conv2d.h"

namespace simdcnn {

// Floats conv2d_pack_weights writes for this layer on the active ISA (a 16-float header that
// records ISA and geometry, then per group K x round_up(outC/groups, VS) panel floats, VS = 16 / 8
// / 4 / 8 for AVX-512 / AVX2 / NEON / scalar). 0 when the parameters are invalid or the weights
// would exceed kMaxElements.
size_t conv2d_packed_size(const Conv2dParams& p);

// w [outC, C/groups, kH, kW] -> packed (conv2d_packed_size(p) floats). Layout after the header:
// for each group g, at g * K*round_up(Mg, VS), its Mg = outC/groups channels in panels of NR (the
// last one round_up(rest, VS) wide); panel j is K rows of its width, at j*NR*K.
Status conv2d_pack_weights(const Conv2dParams& p, const float* w, float* packed);

// True when `packed` holds weights conv2d_pack_weights packed for this geometry (outC, C, kH, kW,
// groups) on the active ISA (checks the header only).
bool conv2d_packed_matches(const Conv2dParams& p, const float* packed);

// out [N, outC, OH, OW] = act(conv2d(x, w) + bias + residual). bias [outC] and residual (out's
// shape) may be null. kInvalidArgument when `packed` was made for another geometry or ISA.
Status conv2d_packed(const Conv2dParams& p, const float* x, const float* packed, const float* bias,
                     const float* residual, float* out);

// Which microkernel family runs (tests; both give the same bits): by default the row kernels
// (conv2d_packed_ukernel.h, over stride-phase-split input slabs: any stride) for few output
// channels per group, the tiles otherwise. Forced, the row kernels run any channel count (in
// chunks of kConvRowMaxC).
enum class ConvPackedPath { kAuto, kTiles, kRows };
Status conv2d_packed_path(const Conv2dParams& p, const float* x, const float* packed, const float* bias,
                          const float* residual, float* out, ConvPackedPath path);

}  // namespace simdcnn
