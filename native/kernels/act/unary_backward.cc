#include "kernels/act/unary_backward.h"

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/thread_pool.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr UnaryBackwardRangeFn kTable[] = {unary_backward_range_scalar, unary_backward_range_avx2,
                                           unary_backward_range_avx512, unary_backward_range_scalar};
#elif SIMDCNN_ARM64
constexpr UnaryBackwardRangeFn kTable[] = {unary_backward_range_scalar, unary_backward_range_scalar,
                                           unary_backward_range_scalar, unary_backward_range_neon};
#else
constexpr UnaryBackwardRangeFn kTable[] = {unary_backward_range_scalar, unary_backward_range_scalar,
                                           unary_backward_range_scalar, unary_backward_range_scalar};
#endif

// Below this many elements a thread hand-off costs more than the work.
constexpr size_t kGrain = 1 << 15;

}  // namespace

Status unary_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n, UnaryBackwardKind kind,
                      float alpha) {
  const int k = static_cast<int>(kind);
  if (n < 0 || k < 0 || k >= kUnaryBackwardKindCount) return Status::kInvalidArgument;
  if (n == 0) return Status::kOk;
  if (x == nullptr || y == nullptr || dy == nullptr || dx == nullptr) return Status::kInvalidArgument;
  const UnaryBackwardRangeFn fn = kTable[static_cast<int>(active_isa())];
  parallel_for(static_cast<size_t>(n), kGrain,
               [&](size_t b, size_t e) { fn(x + b, y + b, dy + b, dx + b, e - b, kind, alpha); });
  return Status::kOk;
}

}  // namespace simdcnn
