#include "kernels/act/softmax.h"

#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"

namespace simdcnn {

namespace {

// One column x[o, :, i] with element stride `step`. exp is evaluated in double: the sum then
// carries no float rounding and exp(x - max) is exact to float precision after the final cast.
void softmax_column(const float* x, float* y, size_t dim, size_t step, bool log) {
  // NaN never wins the comparison but poisons the sum, so a NaN column comes out all NaN; an
  // infinite max gives NaN where x is that infinity, as in PyTorch.
  float mx = x[0];
  for (size_t d = 1; d < dim; ++d) {
    const float v = x[d * step];
    if (v > mx) mx = v;
  }
  const double m = mx;
  double s = 0;
  for (size_t d = 0; d < dim; ++d) s += std::exp(static_cast<double>(x[d * step]) - m);
  if (log) {
    const double ls = std::log(s);
    for (size_t d = 0; d < dim; ++d) y[d * step] = static_cast<float>(static_cast<double>(x[d * step]) - m - ls);
  } else {
    const double inv = 1.0 / s;
    for (size_t d = 0; d < dim; ++d)
      y[d * step] = static_cast<float>(std::exp(static_cast<double>(x[d * step]) - m) * inv);
  }
}

}  // namespace

Status softmax(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner, bool log) {
  int64_t cols = 0, total = 0;
  if (!checked_mul(outer, inner, &cols) || !checked_mul(cols, dim, &total)) return Status::kInvalidArgument;
  if (total == 0) return cols == 0 || dim == 0 ? Status::kOk : Status::kInvalidArgument;
  if (!x || !y) return Status::kInvalidArgument;
  const size_t d = static_cast<size_t>(dim), in = static_cast<size_t>(inner);
  const size_t grain = d >= 8192 ? 1 : 8192 / d;
  parallel_for(static_cast<size_t>(cols), grain, [&](size_t lo, size_t hi) {
    for (size_t col = lo; col < hi; ++col) {
      const size_t o = col / in, i = col % in;
      const size_t base = o * d * in + i;
      softmax_column(x + base, y + base, d, in, log);
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
