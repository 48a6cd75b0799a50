#include "kernels/elementwise/binary.h"

#include <algorithm>

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/shape.h"
#include "core/thread_pool.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr BinaryRangeFn kBinaryTable[] = {binary_range_scalar, binary_range_avx2,
                                          binary_range_avx512, binary_range_scalar};
#elif SIMDCNN_ARM64
constexpr BinaryRangeFn kBinaryTable[] = {binary_range_scalar, binary_range_scalar,
                                          binary_range_scalar, binary_range_neon};
#else
constexpr BinaryRangeFn kBinaryTable[] = {binary_range_scalar, binary_range_scalar,
                                          binary_range_scalar, binary_range_scalar};
#endif

constexpr size_t kBinaryGrain = 1 << 15;  // elements per thread, at least

}  // namespace

Status binary(const float* a, const float* b, float* y, int64_t N, int64_t C, int64_t inner,
              BinaryKind kind, BroadcastMode mode) {
  const int k = static_cast<int>(kind), m = static_cast<int>(mode);
  if (k < 0 || k > 3 || m < 0 || m > 1) return Status::kInvalidArgument;
  int64_t planes = 0, total = 0;
  if (!checked_mul(N, C, &planes) || !checked_mul(planes, inner, &total)) return Status::kInvalidArgument;
  if (total == 0) return Status::kOk;
  if (a == nullptr || b == nullptr || y == nullptr) return Status::kInvalidArgument;
  const BinaryRangeFn fn = kBinaryTable[static_cast<int>(active_isa())];
  if (mode == BroadcastMode::kSame) {
    parallel_for(static_cast<size_t>(total), kBinaryGrain,
                 [&](size_t lo, size_t hi) { fn(a + lo, b + lo, y + lo, hi - lo, kind, false); });
    return Status::kOk;
  }
  const size_t in = static_cast<size_t>(inner);
  const size_t cs = static_cast<size_t>(C);
  if (in == 1) {
    // b along the last axis ([N, H, W, C] by [C], channels-last LayerNorm's scale and shift): each
    // row of a against the whole of b, instead of one call per element.
    parallel_for(static_cast<size_t>(N), std::max<size_t>(1, kBinaryGrain / cs), [&](size_t lo, size_t hi) {
      for (size_t n = lo; n < hi; ++n) fn(a + n * cs, b, y + n * cs, cs, kind, false);
    });
    return Status::kOk;
  }
  const size_t grain = in >= kBinaryGrain ? 1 : kBinaryGrain / in;
  parallel_for(static_cast<size_t>(planes), grain, [&](size_t lo, size_t hi) {
    for (size_t p = lo; p < hi; ++p)
      fn(a + p * in, b + p % static_cast<size_t>(C), y + p * in, in, kind, true);
  });
  return Status::kOk;
}

}  // namespace simdcnn
