// Shared by the GEMM/conv tests: a deterministic generator and the tolerance rule
// |got - ref| <= 1e-6*|ref| + 4e-7*sqrt(K)*sum|terms| (K the reduction length).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace simdcnn {
namespace {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 6364136223846793005ull + 1442695040888963407ull) {}
  float next() {  // uniform in [-1, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int64_t>(s >> 40) - (int64_t{1} << 23)) / static_cast<float>(1 << 23);
  }
  void fill(std::vector<float>& v) {
    for (float& x : v) x = next();
  }
};

bool within(double got, double ref, double abs_sum, size_t k) {
  if (std::isnan(got) || std::isnan(ref)) return false;
  const double tol = 1e-6 * std::fabs(ref) + 4e-7 * std::sqrt(static_cast<double>(k) + 2.0) * abs_sum + 1e-30;
  return std::fabs(got - ref) <= tol;
}

}  // namespace
}  // namespace simdcnn
