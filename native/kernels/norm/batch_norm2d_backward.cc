#include <cmath>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/norm/affine.h"
#include "kernels/norm/norm.h"
#include "kernels/norm/norm_stats.h"

namespace simdcnn {

namespace {

// sum(dy) and sum(dy * (x - mean)) over one run, in double, in a fixed order.
void grad_sums(const float* x, const float* dy, size_t n, double mean, double* s_dy, double* s_dyx) {
  double a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const double d0 = dy[i], d1 = dy[i + 1];
    a0 += d0;
    a1 += d1;
    b0 += d0 * (x[i] - mean);
    b1 += d1 * (x[i + 1] - mean);
  }
  for (; i < n; ++i) {
    const double d = dy[i];
    a0 += d;
    b0 += d * (x[i] - mean);
  }
  *s_dy += a0 + a1;
  *s_dyx += b0 + b1;
}

}  // namespace

Status batch_norm2d_backward(const float* x, const float* dy, int64_t N, int64_t C, int64_t HW, const float* weight,
                             float eps, float* dx, float* dweight, float* dbias) {
  int64_t planes = 0, total = 0, count = 0;
  if (!checked_mul(N, C, &planes) || !checked_mul(planes, HW, &total) || !checked_mul(N, HW, &count))
    return Status::kInvalidArgument;
  if (!(eps >= 0.0f) || !std::isfinite(eps)) return Status::kInvalidArgument;
  if (C == 0) return Status::kOk;
  if (count == 0 || !x || !dy) return Status::kInvalidArgument;
  const AffineGradFn grad = affine_kernels().grad;
  const size_t hw = static_cast<size_t>(HW), n_planes = static_cast<size_t>(N),
               stride = static_cast<size_t>(C) * hw;
  const double M = static_cast<double>(count);
  // Three passes over the channel (four with dx); a channel's reductions never span threads.
  const size_t grain = count >= 16384 ? 1 : static_cast<size_t>(16384 / count);
  parallel_for(static_cast<size_t>(C), grain, [&](size_t lo, size_t hi) {
    for (size_t c = lo; c < hi; ++c) {
      const float* xc = x + c * hw;
      const float* dyc = dy + c * hw;
      double s = 0;
      for (size_t n = 0; n < n_planes; ++n) s += norm_stats::sum(xc + n * stride, hw);
      const double mean = s / M;
      double q = 0;
      for (size_t n = 0; n < n_planes; ++n) q += norm_stats::sum_sq_dev(xc + n * stride, hw, mean);
      const double invstd = 1.0 / std::sqrt(q / M + static_cast<double>(eps));
      double s_dy = 0, s_dyx = 0;
      for (size_t n = 0; n < n_planes; ++n) grad_sums(xc + n * stride, dyc + n * stride, hw, mean, &s_dy, &s_dyx);
      const double s_dyxhat = s_dyx * invstd;
      if (dbias) dbias[c] = static_cast<float>(s_dy);
      if (dweight) dweight[c] = static_cast<float>(s_dyxhat);
      if (!dx) continue;
      // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)) = a * dy + b * (x - mf) + cst, with
      // mf = float(mean) so that x - mf stays exact-ish for large offsets; cst absorbs mf - mean.
      const double scale = (weight ? static_cast<double>(weight[c]) : 1.0) * invstd;
      const float mf = static_cast<float>(mean);
      const double b = -scale * invstd * (s_dyxhat / M);
      const double cst = -scale * (s_dy / M) + b * (static_cast<double>(mf) - mean);
      for (size_t n = 0; n < n_planes; ++n)
        grad(xc + n * stride, dyc + n * stride, dx + c * hw + n * stride, hw, mf, static_cast<float>(scale),
             static_cast<float>(b), static_cast<float>(cst));
    }
  });
  return Status::kOk;
}

}  // namespace simdcnn
