// Gradients of linear (out[N,outF] = x[N,inF] * w[outF,inF]^T + b) given dy[N,outF]:
//   dx[N,inF] = dy * w, dw[outF,inF] = dy^T * x, db[outF] = column sums of dy.
// Each output may be null (skipped); the others are overwritten. db sums in double, rows in order.
#pragma once
#include <cstddef>

#include "core/status.h"

namespace simdcnn {

Status linear_backward(size_t N, size_t inF, size_t outF, const float* x, const float* w, const float* dy,
                       float* dx, float* dw, float* db);

}  // namespace simdcnn
