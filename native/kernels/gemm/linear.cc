#include "kernels/gemm/linear.h"

#include <algorithm>

#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemv.h"

namespace simdcnn {
namespace {

using GemvFn = void (*)(size_t, const float*, const float*, size_t, size_t, float*);
const GemvFn kGemv[] = {
    gemv_rows_scalar,
#if SIMDCNN_X86
    gemv_rows_avx2,
    gemv_rows_avx512,
#else
    gemv_rows_scalar,
    gemv_rows_scalar,
#endif
#if SIMDCNN_ARM64
    gemv_rows_neon,
#else
    gemv_rows_scalar,  // neon: not this target
#endif
};

// Up to this batch a dense layer streams the weights row by row (gemv) instead of packing them.
constexpr size_t kGemvMaxBatch = 4;

}  // namespace

void gemv_rows(size_t K, const float* x, const float* W, size_t ldw, size_t rows, float* y) {
  const int i = static_cast<int>(active_isa());
  kGemv[(i >= 0 && i < 4) ? i : 0](K, x, W, ldw, rows, y);
}

Status linear(size_t N, size_t inF, size_t outF, const float* x, const float* w, const float* b,
              float* out) {
  if (N == 0 || outF == 0) return Status::kOk;
  if (!x || !w || !out) return Status::kInvalidArgument;
  if (N <= kGemvMaxBatch) {
    // Threads split the output features; each output is one dot product in a fixed order.
    const GemvFn fn = kGemv[std::min(static_cast<int>(active_isa()), 3)];
    const size_t grain = std::max<size_t>(4, (size_t{1} << 16) / std::max<size_t>(1, inF * N));
    parallel_for(outF, grain, [&](size_t o0, size_t o1) {
      for (size_t i = 0; i < N; ++i) {
        float* y = out + i * outF;
        fn(inF, x + i * inF, w + o0 * inF, inF, o1 - o0, y + o0);
        if (b)
          for (size_t o = o0; o < o1; ++o) y[o] += b[o];
      }
    });
    return Status::kOk;
  }
  GemmEpilogue ep;
  ep.col_bias = b;
  // w is [outF, inF] row-major, i.e. op(B) = w^T with ldb = inF.
  return gemm(N, outF, inF, x, inF, false, w, inF, true, out, outF, ep);
}

Status matmul(size_t M, size_t K, size_t N, const float* a, const float* b, float* out) {
  return gemm(M, N, K, a, K, false, b, N, false, out, N, GemmEpilogue{});
}

}  // namespace simdcnn
