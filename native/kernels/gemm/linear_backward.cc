#include "kernels/gemm/linear_backward.h"

#include "core/scratch.h"
#include "kernels/gemm/gemm.h"

namespace simdcnn {

Status linear_backward(size_t N, size_t inF, size_t outF, const float* x, const float* w, const float* dy,
                       float* dx, float* dw, float* db) {
  if (!dy || (dx && !w) || (dw && !x)) return Status::kInvalidArgument;
  if (dx) {
    // dy [N, outF] * w [outF, inF]; an empty reduction (outF == 0) yields zeros.
    const Status s = gemm(N, inF, outF, dy, outF, false, w, inF, false, dx, inF, GemmEpilogue{});
    if (s != Status::kOk) return s;
  }
  if (dw) {
    // op(A) = dy^T: dy is [N, outF], so transA with lda = outF.
    const Status s = gemm(outF, inF, N, dy, outF, true, x, inF, false, dw, inF, GemmEpilogue{});
    if (s != Status::kOk) return s;
  }
  if (db && outF > 0) {
    // Double accumulators (two floats each), rows added in order: fixed and cache-friendly.
    ScratchBuffer abuf;
    if (!abuf.reserve(2 * outF)) return Status::kOutOfMemory;
    double* acc = reinterpret_cast<double*>(abuf.data());
    for (size_t o = 0; o < outF; ++o) acc[o] = 0.0;
    for (size_t n = 0; n < N; ++n) {
      const float* row = dy + n * outF;
      for (size_t o = 0; o < outF; ++o) acc[o] += row[o];
    }
    for (size_t o = 0; o < outF; ++o) db[o] = static_cast<float>(acc[o]);
  }
  return Status::kOk;
}

}  // namespace simdcnn
