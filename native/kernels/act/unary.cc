#include "kernels/act/unary.h"

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/thread_pool.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr UnaryRangeFn kUnaryTable[] = {unary_range_scalar, unary_range_avx2, unary_range_avx512,
                                        unary_range_scalar};
#elif SIMDCNN_ARM64
constexpr UnaryRangeFn kUnaryTable[] = {unary_range_scalar, unary_range_scalar, unary_range_scalar,
                                        unary_range_neon};
#else
constexpr UnaryRangeFn kUnaryTable[] = {unary_range_scalar, unary_range_scalar, unary_range_scalar,
                                        unary_range_scalar};
#endif

// Below this many elements a thread hand-off costs more than the work.
constexpr size_t kUnaryGrain = 1 << 15;

}  // namespace

Status unary(const float* x, float* y, int64_t n, UnaryKind kind, float alpha, float beta) {
  if (n < 0 || (n > 0 && (x == nullptr || y == nullptr))) return Status::kInvalidArgument;
  const int k = static_cast<int>(kind);
  if (k < 0 || k >= kUnaryKindCount) return Status::kInvalidArgument;
  const UnaryRangeFn fn = kUnaryTable[static_cast<int>(active_isa())];
  parallel_for(static_cast<size_t>(n), kUnaryGrain,
               [&](size_t b, size_t e) { fn(x + b, y + b, e - b, kind, alpha, beta); });
  return Status::kOk;
}

void apply_act(int code, float alpha, float beta, float* y, size_t n) {
  if (code <= 0 || code >= kActCodeCount || n == 0) return;
  kUnaryTable[static_cast<int>(active_isa())](y, y, n, static_cast<UnaryKind>(code - 1), alpha, beta);
}

}  // namespace simdcnn
