// Dense layers on top of gemm().
#pragma once
#include <cstddef>

#include "core/status.h"

namespace simdcnn {

// out[N,outF] = x[N,inF] * w[outF,inF]^T + b[outF] (b may be null).
Status linear(size_t N, size_t inF, size_t outF, const float* x, const float* w, const float* b,
              float* out);

// out[M,N] = a[M,K] * b[K,N].
Status matmul(size_t M, size_t K, size_t N, const float* a, const float* b, float* out);

}  // namespace simdcnn
