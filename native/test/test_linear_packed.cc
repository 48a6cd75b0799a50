// Dense layers from prepacked weights (kernels/gemm/linear_packed.h) vs a float64 reference, and the
// batch-size invariance the packed layout promises (panel path at batch <= 4 and GEMM path above
// give the same bits per row).
#include <cstring>
#include <vector>

#include "kernels/gemm/linear_packed.h"
#include "test/gemm_test_util.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

int check_linear_packed(size_t N, size_t inF, size_t outF, bool bias, bool relu, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(N * inF), w(outF * inF), b(outF);
  rng.fill(x);
  rng.fill(w);
  rng.fill(b);
  const size_t n = linear_packed_size(inF, outF);
  std::vector<float> packed(n + 1, 7.0f), out(N * outF + 1, 9.0f);
  if (linear_pack_weights(inF, outF, w.data(), packed.data()) != Status::kOk) return 1;
  if (packed[n] != 7.0f) return 1;  // wrote past the size it reported
  if (linear_packed(N, inF, outF, x.data(), packed.data(), bias ? b.data() : nullptr, relu ? 1 : 0, 0.0f, 0.0f, out.data()) != Status::kOk)
    return 1;
  int bad = out[N * outF] != 9.0f;
  for (size_t i = 0; i < N; ++i)
    for (size_t o = 0; o < outF; ++o) {
      double ref = bias ? b[o] : 0.0, abs_sum = bias ? std::fabs(b[o]) : 0.0;
      for (size_t k = 0; k < inF; ++k) {
        const double t = static_cast<double>(x[i * inF + k]) * w[o * inF + k];
        ref += t;
        abs_sum += std::fabs(t);
      }
      if (relu && ref < 0) ref = 0;
      if (!within(out[i * outF + o], ref, abs_sum, inF)) {
        if (bad < 3)
          std::fprintf(stderr, "  linear_packed N=%zu %zu->%zu: out[%zu,%zu] = %.9g, ref %.9g\n", N, inF, outF, i, o,
                       out[i * outF + o], ref);
        ++bad;
      }
    }
  return bad;
}

TEST_CASE("linear_packed: shapes across panel widths and both paths") {
  int bad = 0;
  uint64_t seed = 1;
  for (size_t N : {1, 2, 3, 4, 5, 9})
    for (size_t inF : {1, 7, 64, 257, 400})
      for (size_t outF : {1, 8, 15, 16, 47, 48, 49, 120})
        bad += check_linear_packed(N, inF, outF, (seed & 1) != 0, (seed & 2) != 0, seed), ++seed;
  CHECK(bad == 0);
}

TEST_CASE("linear_packed: each row's bits do not depend on the batch size") {
  const size_t inF = 300, outF = 130, N = 11;
  Rng rng(42);
  std::vector<float> x(N * inF), w(outF * inF), b(outF);
  rng.fill(x);
  rng.fill(w);
  rng.fill(b);
  std::vector<float> packed(linear_packed_size(inF, outF));
  CHECK(linear_pack_weights(inF, outF, w.data(), packed.data()) == Status::kOk);
  std::vector<float> full(N * outF), one(outF);
  CHECK(linear_packed(N, inF, outF, x.data(), packed.data(), b.data(), 1, 0.0f, 0.0f, full.data()) == Status::kOk);
  for (size_t i = 0; i < N; ++i) {
    CHECK(linear_packed(1, inF, outF, x.data() + i * inF, packed.data(), b.data(), 1, 0.0f, 0.0f, one.data()) == Status::kOk);
    CHECK(std::memcmp(one.data(), full.data() + i * outF, outF * sizeof(float)) == 0);
  }
}

TEST_CASE("linear_packed: invalid arguments") {
  float v = 0;
  CHECK(linear_pack_weights(0, 3, &v, &v) == Status::kInvalidArgument);
  CHECK(linear_pack_weights(3, 3, nullptr, &v) == Status::kInvalidArgument);
  CHECK(linear_packed(1, 3, 3, nullptr, &v, nullptr, 0, 0.0f, 0.0f, &v) == Status::kInvalidArgument);
  CHECK(linear_packed(0, 3, 3, nullptr, nullptr, nullptr, 0, 0.0f, 0.0f, nullptr) == Status::kOk);
}

}  // namespace
}  // namespace simdcnn
