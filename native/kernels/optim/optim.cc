#include "kernels/optim/optim.h"

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/elementwise/no_contract.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr SgdRangeFn kSgdTable[] = {sgd_range_scalar, sgd_range_avx2, sgd_range_avx512, sgd_range_scalar};
constexpr AdamRangeFn kAdamTable[] = {adam_range_scalar, adam_range_avx2, adam_range_avx512, adam_range_scalar};
#elif SIMDCNN_ARM64
constexpr SgdRangeFn kSgdTable[] = {sgd_range_scalar, sgd_range_scalar, sgd_range_scalar, sgd_range_neon};
constexpr AdamRangeFn kAdamTable[] = {adam_range_scalar, adam_range_scalar, adam_range_scalar, adam_range_neon};
#else
constexpr SgdRangeFn kSgdTable[] = {sgd_range_scalar, sgd_range_scalar, sgd_range_scalar, sgd_range_scalar};
constexpr AdamRangeFn kAdamTable[] = {adam_range_scalar, adam_range_scalar, adam_range_scalar, adam_range_scalar};
#endif

// Elements per thread, at least (a parameter smaller than this is updated on the calling thread).
constexpr size_t kGrain = 1 << 14;

bool slots_valid(const OptimSlot* slots, size_t count, bool adam) {
  if (count > 0 && !slots) return false;
  for (size_t i = 0; i < count; ++i) {
    const OptimSlot& s = slots[i];
    if (s.n > 0 && (!s.w || !s.g || (adam && (!s.s0 || !s.s1)))) return false;
  }
  return true;
}

}  // namespace

Status sgd_step(const OptimSlot* slots, size_t count, const float* hyper) {
  if (!hyper || !slots_valid(slots, count, false)) return Status::kInvalidArgument;
  SgdHyper h;
  h.lr = hyper[0];
  h.momentum = hyper[1];
  h.keep_d = 1.0f - hyper[2];
  h.wd = hyper[3];
  h.nesterov = hyper[4] != 0.0f;
  h.first = hyper[5] != 0.0f;
  const SgdRangeFn fn = kSgdTable[static_cast<int>(active_isa())];
  for (size_t i = 0; i < count; ++i) {
    const OptimSlot& s = slots[i];
    parallel_for(s.n, kGrain, [&](size_t b, size_t e) { fn(s.w + b, s.g + b, s.s0 ? s.s0 + b : nullptr, e - b, h); });
  }
  return Status::kOk;
}

Status adam_step(const OptimSlot* slots, size_t count, const float* hyper) {
  if (!hyper || !slots_valid(slots, count, true)) return Status::kInvalidArgument;
  AdamHyper h;
  h.lr = hyper[0];
  h.b1 = hyper[1];
  h.one_minus_b1 = 1.0f - hyper[1];
  h.b2 = hyper[2];
  h.one_minus_b2 = 1.0f - hyper[2];
  h.eps = hyper[3];
  h.wd = hyper[4];
  h.c1 = hyper[5];
  h.c2 = hyper[6];
  const AdamRangeFn fn = kAdamTable[static_cast<int>(active_isa())];
  for (size_t i = 0; i < count; ++i) {
    const OptimSlot& s = slots[i];
    parallel_for(s.n, kGrain, [&](size_t b, size_t e) { fn(s.w + b, s.g + b, s.s0 + b, s.s1 + b, e - b, h); });
  }
  return Status::kOk;
}

}  // namespace simdcnn
