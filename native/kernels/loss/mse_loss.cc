#include <cmath>

#include "core/shape.h"
#include "kernels/loss/loss.h"

namespace simdcnn {

Status mse_loss(const float* a, const float* b, int64_t n, double* loss) {
  if (n < 0 || n > kMaxElements || !loss || (n > 0 && (!a || !b))) return Status::kInvalidArgument;
  if (n == 0) {
    *loss = NAN;
    return Status::kOk;
  }
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double d0 = static_cast<double>(a[i]) - b[i], d1 = static_cast<double>(a[i + 1]) - b[i + 1];
    const double d2 = static_cast<double>(a[i + 2]) - b[i + 2], d3 = static_cast<double>(a[i + 3]) - b[i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    s0 += d * d;
  }
  *loss = ((s0 + s1) + (s2 + s3)) / static_cast<double>(n);
  return Status::kOk;
}

}  // namespace simdcnn
