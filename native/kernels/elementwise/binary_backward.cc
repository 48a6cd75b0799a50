#include "kernels/elementwise/binary_backward.h"

#include <algorithm>

#include "core/arch.h"
#include "core/dispatch.h"
#include "core/shape.h"
#include "core/thread_pool.h"

namespace simdcnn {

namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr BinaryBackwardRangeFn kRangeTable[] = {binary_backward_range_scalar, binary_backward_range_avx2,
                                                 binary_backward_range_avx512, binary_backward_range_scalar};
constexpr SumRangeFn kSumTable[] = {sum_range_scalar, sum_range_avx2, sum_range_avx512, sum_range_scalar};
#elif SIMDCNN_ARM64
constexpr BinaryBackwardRangeFn kRangeTable[] = {binary_backward_range_scalar, binary_backward_range_scalar,
                                                 binary_backward_range_scalar, binary_backward_range_neon};
constexpr SumRangeFn kSumTable[] = {sum_range_scalar, sum_range_scalar, sum_range_scalar, sum_range_neon};
#else
constexpr BinaryBackwardRangeFn kRangeTable[] = {binary_backward_range_scalar, binary_backward_range_scalar,
                                                 binary_backward_range_scalar, binary_backward_range_scalar};
constexpr SumRangeFn kSumTable[] = {sum_range_scalar, sum_range_scalar, sum_range_scalar, sum_range_scalar};
#endif

constexpr size_t kGrain = 1 << 15;  // elements per thread, at least

// Below this many elements per plane the vector sum's setup outweighs it: a double loop instead.
constexpr size_t kShortPlane = 16;

// store(c, s) with s = sum over n and i of x[(n C + c) inner + i] (times y[...] when y is not null),
// channels split across threads; each channel's sum in one fixed order.
template <class Store>
void reduce_channels(const float* x, const float* y, size_t N, size_t C, size_t inner, Store store) {
  const SumRangeFn sum = kSumTable[static_cast<int>(active_isa())];
  const size_t per_channel = N * inner;
  const size_t grain = per_channel >= kGrain ? 1 : kGrain / std::max<size_t>(per_channel, 1);
  parallel_for(C, grain, [&](size_t lo, size_t hi) {
    for (size_t c = lo; c < hi; ++c) {
      double s = 0;
      for (size_t n = 0; n < N; ++n) {
        const size_t base = (n * C + c) * inner;
        if (inner < kShortPlane) {
          for (size_t i = base; i < base + inner; ++i)
            s += y ? static_cast<double>(x[i] * y[i]) : static_cast<double>(x[i]);
        } else {
          s += sum(x + base, y ? y + base : nullptr, inner);
        }
      }
      store(c, s);
    }
  });
}

bool sizes(int64_t N, int64_t C, int64_t inner, int64_t* total) {
  int64_t planes = 0;
  return checked_mul(N, C, &planes) && checked_mul(planes, inner, total);
}

}  // namespace

Status channel_sum(const float* dy, float* out, int64_t N, int64_t C, int64_t inner) {
  int64_t total = 0;
  if (!sizes(N, C, inner, &total)) return Status::kInvalidArgument;
  if (C == 0) return Status::kOk;
  if (!out || (total > 0 && !dy)) return Status::kInvalidArgument;
  reduce_channels(dy, nullptr, static_cast<size_t>(N), static_cast<size_t>(C), static_cast<size_t>(inner),
                  [&](size_t c, double s) { out[c] = static_cast<float>(s); });
  return Status::kOk;
}

Status binary_backward(const float* a, const float* b, const float* dy, float* da, float* db, int64_t N, int64_t C,
                       int64_t inner, BinaryKind kind, BroadcastMode mode) {
  const int k = static_cast<int>(kind), m = static_cast<int>(mode);
  int64_t total = 0;
  if (k < 0 || k > 3 || m < 0 || m > 1 || !sizes(N, C, inner, &total)) return Status::kInvalidArgument;
  if (total == 0 || (!da && !db)) {
    // An empty a in channel mode still has a db of C zero sums.
    if (mode == BroadcastMode::kChannel && db) std::fill(db, db + C, 0.0f);
    return Status::kOk;
  }
  if (!a || !b || !dy) return Status::kInvalidArgument;
  const BinaryBackwardRangeFn fn = kRangeTable[static_cast<int>(active_isa())];
  if (mode == BroadcastMode::kSame) {
    parallel_for(static_cast<size_t>(total), kGrain, [&](size_t lo, size_t hi) {
      fn(a + lo, b + lo, dy + lo, da ? da + lo : nullptr, db ? db + lo : nullptr, hi - lo, kind, false);
    });
    return Status::kOk;
  }
  const size_t n = static_cast<size_t>(N), cs = static_cast<size_t>(C), in = static_cast<size_t>(inner);
  // db first: da may be dy or a itself, which the sums read.
  if (db) {
    const bool product = kind == BinaryKind::kMul || kind == BinaryKind::kDiv;
    reduce_channels(dy, product ? a : nullptr, n, cs, in, [&](size_t c, double s) {
      switch (kind) {
        case BinaryKind::kAdd: case BinaryKind::kMul: db[c] = static_cast<float>(s); break;
        case BinaryKind::kSub: db[c] = static_cast<float>(-s); break;
        case BinaryKind::kDiv: {
          const double bc = b[c];
          db[c] = static_cast<float>(-s / (bc * bc));
          break;
        }
      }
    });
  }
  if (da) {
    const size_t planes = n * cs;
    const size_t grain = in >= kGrain ? 1 : kGrain / in;
    parallel_for(planes, grain, [&](size_t lo, size_t hi) {
      for (size_t p = lo; p < hi; ++p) fn(a + p * in, b + p % cs, dy + p * in, da + p * in, nullptr, in, kind, true);
    });
  }
  return Status::kOk;
}

}  // namespace simdcnn
