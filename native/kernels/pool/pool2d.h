// 2-D max / avg / min pooling over [N, C, H, W] with PyTorch's semantics: symmetric padding,
// dilation (max/min), ceil_mode (a last window starting in the bottom/right padding is dropped),
// windows clipped to the input for max/min, and avg's divisor either the window clipped to the
// padded input (count_include_pad) or the number of real cells.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// Codes match the addon's `pool2d` mode argument.
enum class PoolMode : int { kMax = 0, kAvg = 1, kMin = 2 };
// Codes match the addon's `globalPool2d` mode argument.
enum class GlobalPoolMode : int { kMax = 0, kAvg = 1 };

struct Pool2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t kH = 1, kW = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;  // symmetric: both sides of the axis
  int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
  PoolMode mode = PoolMode::kMax;
  bool count_include_pad = true;  // avg only
};

// Why pool2d_check rejected a geometry (the binding turns these into messages).
enum class PoolGeomError : int {
  kNone = 0,
  kBadSize,         // a size < 1, kernel/stride/dilation < 1 or padding < 0
  kPadTooLarge,     // pad > kernel / 2 (PyTorch's rule)
  kAvgDilation,     // avg pooling with dilation != 1
  kEmptyOutput,     // the (dilated) kernel does not fit the padded input
  kTooLarge,        // N*C*OH*OW overflows kMaxElements
  kWindowTooLarge,  // a dilated kernel extent or padding over kMaxPoolWindow
};

// The widest window (dilated kernel extent) and padding per axis: each thread's scratch holds a
// padded row of the window's width, so an unbounded kernel would be an unbounded allocation
// (lib/ops/validate.ts kMaxPoolWindow is the same bound).
constexpr int64_t kMaxPoolWindow = int64_t{1} << 24;

// Validates p and computes the output size. OH/OW may be null.
PoolGeomError pool2d_check(const Pool2dParams& p, int64_t* OH, int64_t* OW);

// y is [N, C, OH, OW] with OH/OW from pool2d_check. x and y must not overlap.
Status pool2d(const float* x, float* y, const Pool2dParams& p);

// x viewed as [N, C, HW] -> y [N, C] (max or mean over HW; the mean is summed in double).
Status global_pool2d(const float* x, float* y, int64_t N, int64_t C, int64_t HW, GlobalPoolMode mode);

// Gradient of global_pool2d: dx [N, C, HW] from x and dy [N, C]. Max routes dy[n, c] to the
// plane's arg-max (the first of equal maxima; a NaN beats numbers and the last NaN wins, as the
// JS reference and PyTorch's CPU kernel), zeros elsewhere; avg spreads dy / HW over the plane.
// dx is overwritten and must not overlap x or dy.
Status global_pool2d_backward(const float* x, const float* dy, float* dx, int64_t N, int64_t C, int64_t HW,
                              GlobalPoolMode mode);

// Everything a per-ISA plane kernel needs, derived once per call.
struct PoolPlan {
  int64_t H, W, OH, OW;
  int64_t kH, kW, sH, sW, pH, pW, dH, dW;
  int64_t Wp;            // padded row width: every tap of every window is in [0, Wp)
  PoolMode mode;
  bool count_include_pad;
  const float* div_w;    // avg: per output column, the window's width in the divisor (OW entries)
};

// Floats of slack after the padded row (stride-2 windows read two vectors and keep the even lanes).
constexpr int64_t kPoolRowSlack = 32;

// One (n, c) plane: x [H, W] -> y [OH, OW]. row: Wp + kPoolRowSlack floats, inter: H * OW floats of
// scratch.
using Pool2dPlaneFn = void (*)(const float* x, float* y, const PoolPlan& plan, float* row, float* inter);
void pool2d_plane_scalar(const float* x, float* y, const PoolPlan& plan, float* row, float* inter);
void pool2d_plane_avx2(const float* x, float* y, const PoolPlan& plan, float* row, float* inter);
void pool2d_plane_avx512(const float* x, float* y, const PoolPlan& plan, float* row, float* inter);
void pool2d_plane_neon(const float* x, float* y, const PoolPlan& plan, float* row, float* inter);

// Sum of x[0..n) in double as global_pool2d's average takes it: element i into partial sum
// i % 16 (each a chain of double additions from +0 in increasing i), then the partial sums halved
// pairwise (s[j] += s[j + w] for w = 8, 4, 2, 1). Exact double additions in a fixed order: every
// ISA returns the same bits; the vector versions keep the 16 partial sums in registers.
using PlaneSumFn = double (*)(const float* x, size_t n);
double plane_sum16_scalar(const float* x, size_t n);
double plane_sum16_avx2(const float* x, size_t n);
double plane_sum16_avx512(const float* x, size_t n);
double plane_sum16_neon(const float* x, size_t n);

// Fills every PoolPlan field but div_w from a geometry pool2d_check accepted.
void pool2d_make_plan(const Pool2dParams& p, int64_t OH, int64_t OW, PoolPlan* plan);
// avg: d[ow] = the width of output column ow's window in the divisor (OW entries).
void pool2d_avg_col_divisors(const Pool2dParams& p, int64_t OW, float* d);

// The gradient of pool2d w.r.t. x: dx [N, C, H, W] (overwritten) from x and dy [N, C, OH, OW].
// max/min route each dy element to its window's first arg-extreme in scan order (kh, then kw;
// a NaN beats numbers and the last NaN wins, as the forward's NaN propagation); avg spreads
// dy / divisor over the window's real taps. dx must not overlap x or dy.
Status pool2d_backward(const float* x, const float* dy, float* dx, const Pool2dParams& p);

// One (n, c) plane of pool2d_backward. scratch: pool2d_backward_scratch(plan) floats.
using Pool2dBackwardPlaneFn = void (*)(const float* x, const float* dy, float* dx, const PoolPlan& plan,
                                       float* scratch);
size_t pool2d_backward_scratch(const PoolPlan& plan);
void pool2d_backward_plane_scalar(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch);
void pool2d_backward_plane_avx2(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch);
void pool2d_backward_plane_avx512(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch);
void pool2d_backward_plane_neon(const float* x, const float* dy, float* dx, const PoolPlan& plan, float* scratch);

}  // namespace simdcnn
