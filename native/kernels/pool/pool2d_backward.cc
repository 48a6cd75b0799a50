#include <atomic>

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/scratch.h"
#include "core/thread_pool.h"
#include "kernels/pool/pool2d.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr Pool2dBackwardPlaneFn kPoolBackwardTable[] = {pool2d_backward_plane_scalar, pool2d_backward_plane_avx2,
                                                        pool2d_backward_plane_avx512, pool2d_backward_plane_scalar};
#elif SIMDCNN_ARM64
constexpr Pool2dBackwardPlaneFn kPoolBackwardTable[] = {pool2d_backward_plane_scalar, pool2d_backward_plane_scalar,
                                                        pool2d_backward_plane_scalar, pool2d_backward_plane_neon};
#else
constexpr Pool2dBackwardPlaneFn kPoolBackwardTable[] = {pool2d_backward_plane_scalar, pool2d_backward_plane_scalar,
                                                        pool2d_backward_plane_scalar, pool2d_backward_plane_scalar};
#endif

constexpr size_t kPoolBackwardGrain = 16384;  // input elements per thread, at least

}  // namespace

size_t pool2d_backward_scratch(const PoolPlan& plan) {
  if (plan.mode != PoolMode::kAvg) return 0;
  return static_cast<size_t>(plan.Wp) + static_cast<size_t>(plan.OW) +
         static_cast<size_t>(plan.H) * static_cast<size_t>(plan.OW);
}

Status pool2d_backward(const float* x, const float* dy, float* dx, const Pool2dParams& p) {
  int64_t OH = 0, OW = 0;
  if (pool2d_check(p, &OH, &OW) != PoolGeomError::kNone) return Status::kInvalidArgument;
  if (!x || !dy || !dx) return Status::kInvalidArgument;

  PoolPlan plan;
  pool2d_make_plan(p, OH, OW, &plan);
  ScratchBuffer div_w;
  if (p.mode == PoolMode::kAvg) {
    if (!div_w.reserve(static_cast<size_t>(OW))) return Status::kOutOfMemory;
    pool2d_avg_col_divisors(p, OW, div_w.data());
    plan.div_w = div_w.data();
  }

  const Pool2dBackwardPlaneFn fn = kPoolBackwardTable[static_cast<int>(active_isa())];
  const size_t planes = static_cast<size_t>(p.N * p.C);
  const size_t in_plane = static_cast<size_t>(p.H * p.W), out_plane = static_cast<size_t>(OH * OW);
  const size_t scratch = pool2d_backward_scratch(plan);
  const size_t grain = in_plane >= kPoolBackwardGrain ? 1 : kPoolBackwardGrain / in_plane;
  std::atomic<bool> oom{false};
  // Each plane of dx is written by exactly one chunk, so the result does not depend on the split.
  parallel_for(planes, grain, [&](size_t lo, size_t hi) {
    ScratchBuffer buf;
    if (scratch && !buf.reserve(scratch)) {
      oom.store(true, std::memory_order_relaxed);
      return;
    }
    for (size_t i = lo; i < hi; ++i) fn(x + i * in_plane, dy + i * out_plane, dx + i * in_plane, plan, buf.data());
  });
  return oom.load() ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace simdcnn
