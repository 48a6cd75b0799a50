// Winograd F(4x4, 3x3) and F(2x2, 3x3) convolution for 3x3, stride-1, dilation-1, groups-1 layers (NCHW).
//
// Each 4x4 output tile is computed from a 6x6 input tile d as  Y = A^T [ sum_c U_c (.) V_c ] A  with
// V = B^T d B (input transform) and U = G g G^T (weight transform, done once per layer), i.e. 36
// multiplies per tile and channel instead of 144. The interpolation points are 0, 1, -1, 1/2, -2
// (and infinity) rather than Lavin & Gray's 0, +-1, +-2: their transforms are as cheap to apply and
// the float32 error is about 2-3x smaller (Barabasz et al. 2020; measured in test_winograd.cc):
//
//   B^T = [ 1  -3/2   -2   3/2    1  0 ]   G = [    1      0      0 ]   A^T = [ 1  1  1    1   1  0 ]
//         [ 0    -1  1/2   5/2    1  0 ]       [  1/3    1/3    1/3 ]         [ 0  1 -1  1/2  -2  0 ]
//         [ 0     1 -5/2   1/2    1  0 ]       [ -1/3    1/3   -1/3 ]         [ 0  1  1  1/4   4  0 ]
//         [ 0    -2   -1     2    1  0 ]       [-16/15 -8/15  -4/15 ]         [ 0  1 -1  1/8  -8  1 ]
//         [ 0   1/2   -1  -1/2    1  0 ]       [ 1/15  -2/15   4/15 ]
//         [ 0     1 -3/2    -2  3/2  1 ]       [    0      0      1 ]
//
// Small maps (14x14: 16 tiles of 4x4 but 49 of 2x2) use F(2x2,3x3) instead (winograd_impl.h has
// its matrices): 16 multiplies per 2x2 tile and channel instead of 36, so 2.25x fewer than direct,
// with transformed weights 16/9 the size of the originals instead of 4x; every transformed weight
// serves 4x more tiles, which is what decides a batch-1 layer whose weights come from DRAM.
//
// Layouts: weights w [outC, C, 3, 3] -> u: a 16-float header (magic, ISA, outC, C, tile size m),
// then for each element e = a*i + j (a = m + 2) of U = G g G^T the outC x C matrix U[e] packed in
// channel panels (panel_gemm.h, K = C). Per image, tiles t = ti*TW + tj (TW = ceil(OW/m)) are
// processed in blocks: V[e][c][t] (input transform, zero padding and the discarded tiles past the
// output edge computed from zeros), a*a panel GEMMs M[e]^T = V[e]^T U[e]^T with the tiles as the
// microkernel's pixels, then the output transform with bias, residual and ReLU fused. Every output
// element is reduced over C in one FMA chain in a fixed order, so results depend neither on the
// thread count nor on the batch size.
#pragma once
#include <cstddef>

#include "core/arch.h"
#include "core/status.h"
#include "kernels/conv/conv2d.h"

namespace simdcnn {

// True for kH = kW = 3, stride 1, dilation 1, groups 1 with a valid, non-empty output.
bool winograd_applicable(const Conv2dParams& p);

// The output tile size for this layer: 4 (F(4x4,3x3)) on maps of at least 36 4x4 tiles, else 2
// (F(2x2,3x3)); 0 where not applicable. Shape only (ignores p.N).
int winograd_tile_size(const Conv2dParams& p);

// Shape-only choice between this path and the direct convolution (ignores p.N so a model's path
// never depends on its batch size). Only true where winograd_applicable and measurably faster (see
// winograd.cc).
bool winograd_preferred(const Conv2dParams& p);

// Floats of the transformed, packed weights of tile size m (0: winograd_tile_size(p)) on the active
// ISA; 0 when not applicable, m is not 0, 2 or 4, or the size passes kMaxElements.
size_t winograd_weights_size(const Conv2dParams& p, int m = 0);

// u (winograd_weights_size(p, m) floats) from w [outC, C, 3, 3] (G g G^T computed in double,
// rounded once, then packed).
Status winograd_weights(const Conv2dParams& p, const float* w, float* u, int m = 0);

// The tile size u was made for when its header matches this layer (outC, C) and the active ISA,
// else 0.
int winograd_weights_tile(const Conv2dParams& p, const float* u);

// Element e = a*i + j (a = m + 2) of U = G g G^T for output channel oc and input channel c, read
// back from u (tests).
float winograd_weight_at(const Conv2dParams& p, const float* u, size_t e, size_t oc, size_t c);

// out = act(conv(x, w) + bias + residual), u from winograd_weights for this layer (any tile size).
// bias [outC] and residual (out's shape) may be null; out must not overlap x, u, bias or residual.
// kInvalidArgument when u was made for another layer or ISA.
Status conv2d_winograd(const Conv2dParams& p, const float* x, const float* u, const float* bias,
                       const float* residual, float* out);

// Blocking and threading overrides for tests and tuning (results are bitwise the same for every
// choice); zeros keep the automatic choice.
struct WinogradTuning {
  size_t tile_block = 0;  // most tiles per block (V and M blocks)
  int mode = 0;           // with > 1 thread: 1 split each image's phases, 2 split its tile range
};
Status conv2d_winograd_tuned(const Conv2dParams& p, const float* x, const float* u, const float* bias,
                             const float* residual, float* out, const WinogradTuning& tuning);

// ---- per-ISA transforms (winograd_<isa>.cc) ----

// Input transform of channels [c0, c1) for tiles [t0, t1) of one image: V[e*ve + c*ldv + (t - t0)].
struct WinogradInArgs {
  int m;           // output tile size: 4 or 2
  const float* x;  // the image, [C, H, W]
  size_t H, W, padTop, padLeft;
  size_t TW;       // tiles per tile row
  size_t c0, c1, t0, t1;
  float* V;
  size_t ldv, ve;
};

// Output transform of channels [oc0, oc1) for tiles [t0, t1): M[e*me + oc*ldm + (t - t0)] ->
// out[oc, OH, OW] of one image, + bias[oc] + residual (same layout as out), then ReLU.
struct WinogradOutArgs {
  int m;  // output tile size: 4 or 2
  const float* M;
  size_t ldm, me;
  size_t TW, OH, OW;
  size_t oc0, oc1, t0, t1;
  const float* bias;      // null: none
  const float* residual;  // null: none
  float* out;
  bool relu;
};

using WinogradInFn = void (*)(const WinogradInArgs& a);
using WinogradOutFn = void (*)(const WinogradOutArgs& a);

void winograd_input_scalar(const WinogradInArgs& a);
void winograd_output_scalar(const WinogradOutArgs& a);
#if SIMDCNN_X86
void winograd_input_avx2(const WinogradInArgs& a);
void winograd_output_avx2(const WinogradOutArgs& a);
void winograd_input_avx512(const WinogradInArgs& a);
void winograd_output_avx512(const WinogradOutArgs& a);
#endif
#if SIMDCNN_ARM64
void winograd_input_neon(const WinogradInArgs& a);
void winograd_output_neon(const WinogradOutArgs& a);
#endif

}  // namespace simdcnn
