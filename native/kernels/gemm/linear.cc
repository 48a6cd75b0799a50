#include "kernels/gemm/linear.h"

#include "kernels/gemm/gemm.h"

namespace simdcnn {

Status linear(size_t N, size_t inF, size_t outF, const float* x, const float* w, const float* b,
              float* out) {
  GemmEpilogue ep;
  ep.col_bias = b;
  // w is [outF, inF] row-major, i.e. op(B) = w^T with ldb = inF.
  return gemm(N, outF, inF, x, inF, false, w, inF, true, out, outF, ep);
}

Status matmul(size_t M, size_t K, size_t N, const float* a, const float* b, float* out) {
  return gemm(M, N, K, a, K, false, b, N, false, out, N, GemmEpilogue{});
}

}  // namespace simdcnn
