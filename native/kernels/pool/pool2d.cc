#include "kernels/pool/pool2d.h"

#include <atomic>

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/scratch.h"
#include "core/shape.h"
#include "core/thread_pool.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr Pool2dPlaneFn kPoolTable[] = {pool2d_plane_scalar, pool2d_plane_avx2, pool2d_plane_avx512,
                                        pool2d_plane_scalar};
#elif SIMDCNN_ARM64
constexpr Pool2dPlaneFn kPoolTable[] = {pool2d_plane_scalar, pool2d_plane_scalar, pool2d_plane_scalar,
                                        pool2d_plane_neon};
#else
constexpr Pool2dPlaneFn kPoolTable[] = {pool2d_plane_scalar, pool2d_plane_scalar, pool2d_plane_scalar,
                                        pool2d_plane_scalar};
#endif

constexpr size_t kPoolGrain = 16384;  // input elements per thread, at least

}  // namespace

PoolGeomError pool2d_check(const Pool2dParams& p, int64_t* OH, int64_t* OW) {
  if (p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.kH < 1 || p.kW < 1 || p.stride_h < 1 ||
      p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1 || p.pad_h < 0 || p.pad_w < 0 ||
      p.kH > kMaxElements || p.kW > kMaxElements || p.dilation_h > kMaxElements ||
      p.dilation_w > kMaxElements || p.stride_h > kMaxElements || p.stride_w > kMaxElements)
    return PoolGeomError::kBadSize;
  const int m = static_cast<int>(p.mode);
  if (m < 0 || m > 2) return PoolGeomError::kBadSize;
  // PyTorch's pool2d_shape_check: pad <= kernel / 2 (the undilated kernel).
  if (p.pad_h > p.kH / 2 || p.pad_w > p.kW / 2) return PoolGeomError::kPadTooLarge;
  if (p.mode == PoolMode::kAvg && (p.dilation_h != 1 || p.dilation_w != 1)) return PoolGeomError::kAvgDilation;
  int64_t t = 0;
  int64_t extent_h = 0, extent_w = 0;
  if (!checked_mul(p.dilation_h, p.kH - 1, &extent_h) || !checked_mul(p.dilation_w, p.kW - 1, &extent_w))
    return PoolGeomError::kTooLarge;
  if (extent_h >= kMaxPoolWindow || extent_w >= kMaxPoolWindow || p.pad_h > kMaxPoolWindow ||
      p.pad_w > kMaxPoolWindow)
    return PoolGeomError::kWindowTooLarge;
  const int64_t oh = pooled_output_size(p.H, p.kH, p.stride_h, p.pad_h, p.pad_h, p.dilation_h, p.ceil_mode);
  const int64_t ow = pooled_output_size(p.W, p.kW, p.stride_w, p.pad_w, p.pad_w, p.dilation_w, p.ceil_mode);
  if (oh < 1 || ow < 1) return PoolGeomError::kEmptyOutput;
  const int64_t dims[] = {p.N, p.C, oh, ow};
  const int64_t in_dims[] = {p.N, p.C, p.H, p.W};
  if (!checked_product(dims, 4, &t) || !checked_product(in_dims, 4, &t)) return PoolGeomError::kTooLarge;
  if (OH) *OH = oh;
  if (OW) *OW = ow;
  return PoolGeomError::kNone;
}

void pool2d_make_plan(const Pool2dParams& p, int64_t OH, int64_t OW, PoolPlan* plan) {
  plan->H = p.H;
  plan->W = p.W;
  plan->OH = OH;
  plan->OW = OW;
  plan->kH = p.kH;
  plan->kW = p.kW;
  plan->sH = p.stride_h;
  plan->sW = p.stride_w;
  plan->pH = p.pad_h;
  plan->pW = p.pad_w;
  plan->dH = p.dilation_h;
  plan->dW = p.dilation_w;
  plan->mode = p.mode;
  plan->count_include_pad = p.count_include_pad;
  const int64_t last_tap = (OW - 1) * p.stride_w + (p.kW - 1) * p.dilation_w + 1;
  plan->Wp = p.pad_w + p.W > last_tap ? p.pad_w + p.W : last_tap;
  plan->div_w = nullptr;
}

void pool2d_avg_col_divisors(const Pool2dParams& p, int64_t OW, float* d) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const int64_t ws = ow * p.stride_w - p.pad_w;
    int64_t we = ws + p.kW;
    if (we > p.W + p.pad_w) we = p.W + p.pad_w;
    d[ow] = p.count_include_pad ? static_cast<float>(we - ws)
                                : static_cast<float>((we < p.W ? we : p.W) - (ws > 0 ? ws : 0));
  }
}

Status pool2d(const float* x, float* y, const Pool2dParams& p) {
  int64_t OH = 0, OW = 0;
  if (pool2d_check(p, &OH, &OW) != PoolGeomError::kNone) return Status::kInvalidArgument;
  if (!x || !y) return Status::kInvalidArgument;

  PoolPlan plan;
  pool2d_make_plan(p, OH, OW, &plan);

  ScratchBuffer div_w;
  plan.div_w = nullptr;
  if (p.mode == PoolMode::kAvg) {
    if (!div_w.reserve(static_cast<size_t>(OW))) return Status::kOutOfMemory;
    pool2d_avg_col_divisors(p, OW, div_w.data());
    plan.div_w = div_w.data();
  }

  const Pool2dPlaneFn fn = kPoolTable[static_cast<int>(active_isa())];
  const size_t planes = static_cast<size_t>(p.N * p.C);
  const size_t in_plane = static_cast<size_t>(p.H * p.W), out_plane = static_cast<size_t>(OH * OW);
  const size_t scratch = static_cast<size_t>(plan.Wp + kPoolRowSlack) + static_cast<size_t>(p.H) * static_cast<size_t>(OW);
  const size_t grain = in_plane >= kPoolGrain ? 1 : kPoolGrain / in_plane;
  std::atomic<bool> oom{false};
  parallel_for(planes, grain, [&](size_t lo, size_t hi) {
    // One scratch per chunk, not per plane.
    ScratchBuffer buf;
    if (!buf.reserve(scratch)) {
      oom.store(true, std::memory_order_relaxed);
      return;
    }
    float* row = buf.data();
    float* inter = row + plan.Wp + kPoolRowSlack;
    for (size_t i = lo; i < hi; ++i) fn(x + i * in_plane, y + i * out_plane, plan, row, inter);
  });
  return oom.load() ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace simdcnn
