// Mean and biased variance of float runs, accumulated in double in a fixed order (two passes:
// the sum of squared deviations does not cancel the way E[x^2] - E[x]^2 does).
#pragma once
#include <cstddef>

namespace simdcnn {
namespace norm_stats {

inline double sum(const float* x, size_t n) {
  // Four independent chains keep the adds pipelined; the order is fixed, so results are too.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; ++i) s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

inline double sum_sq_dev(const float* x, size_t n, double mean) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double d0 = x[i] - mean, d1 = x[i + 1] - mean, d2 = x[i + 2] - mean, d3 = x[i + 3] - mean;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < n; ++i) {
    const double d = x[i] - mean;
    s0 += d * d;
  }
  return (s0 + s1) + (s2 + s3);
}

}  // namespace norm_stats
}  // namespace simdcnn
