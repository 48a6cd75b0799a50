// sgd_step and adam_step against float32 references written here operation by operation (the
// definitions in kernels/optim/optim.h): the bits must match on every ISA and thread count, over
// several steps, for parameters of every vector tail and one large enough to be split across
// threads.
#include "kernels/elementwise/no_contract.h"  // the references round every operation too

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/optim/optim.h"
#include "test/gemm_test_util.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

const size_t kLengths[] = {1, 7, 17, 1000, 4097, 50001};

std::vector<std::vector<float>> arrays(uint64_t seed) {
  std::vector<std::vector<float>> out;
  for (size_t n : kLengths) {
    Rng rng(seed + n);
    std::vector<float> v(n);
    rng.fill(v);
    out.push_back(std::move(v));
  }
  return out;
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0) return false;
  return true;
}

TEST_CASE("optim: sgdStep vs float32 reference, bitwise over 4 steps") {
  struct Case {
    float lr, mu, damp, wd;
    bool nesterov, momentum;
  };
  for (const Case& c : {Case{0.1f, 0.0f, 0.0f, 0.0f, false, false}, Case{0.05f, 0.9f, 0.0f, 1e-4f, false, true},
                        Case{0.01f, 0.9f, 0.0f, 5e-4f, true, true}, Case{0.2f, 0.5f, 0.25f, 0.01f, false, true}}) {
    auto w = arrays(1), ref_w = w, buf = arrays(2), ref_buf = buf;
    for (int step = 0; step < 4; ++step) {
      const auto g = arrays(10 + static_cast<uint64_t>(step));
      const float hyper[kSgdHyperCount] = {c.lr, c.mu, c.damp, c.wd, c.nesterov ? 1.0f : 0.0f, step == 0 ? 1.0f : 0.0f};
      std::vector<OptimSlot> slots;
      for (size_t p = 0; p < w.size(); ++p)
        slots.push_back(OptimSlot{w[p].data(), g[p].data(), c.momentum ? buf[p].data() : nullptr, nullptr, w[p].size()});
      CHECK(sgd_step(slots.data(), slots.size(), hyper) == Status::kOk);
      for (size_t p = 0; p < w.size(); ++p)
        for (size_t i = 0; i < w[p].size(); ++i) {
          float& wi = ref_w[p][i];
          float d = g[p][i] + c.wd * wi;
          if (c.momentum) {
            float& b = ref_buf[p][i];
            b = step == 0 ? d : c.mu * b + (1.0f - c.damp) * d;
            d = c.nesterov ? d + c.mu * b : b;
          }
          wi = wi - c.lr * d;
        }
    }
    CHECK(same_bits(w, ref_w));
    if (c.momentum) CHECK(same_bits(buf, ref_buf));
  }
}

TEST_CASE("optim: adamStep vs float32 reference, bitwise over 4 steps") {
  for (float wd : {0.0f, 0.01f}) {
    auto w = arrays(3), ref_w = w;
    std::vector<std::vector<float>> m, v;
    for (size_t n : kLengths) {
      m.emplace_back(n, 0.0f);
      v.emplace_back(n, 0.0f);
    }
    auto ref_m = m, ref_v = v;
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    for (int t = 1; t <= 4; ++t) {
      const auto g = arrays(20 + static_cast<uint64_t>(t));
      const float c1 = static_cast<float>(1 - std::pow(0.9, t)), c2 = static_cast<float>(1 - std::pow(0.999, t));
      const float hyper[kAdamHyperCount] = {lr, b1, b2, eps, wd, c1, c2};
      std::vector<OptimSlot> slots;
      for (size_t p = 0; p < w.size(); ++p)
        slots.push_back(OptimSlot{w[p].data(), g[p].data(), m[p].data(), v[p].data(), w[p].size()});
      CHECK(adam_step(slots.data(), slots.size(), hyper) == Status::kOk);
      for (size_t p = 0; p < w.size(); ++p)
        for (size_t i = 0; i < w[p].size(); ++i) {
          const float d = g[p][i] + wd * ref_w[p][i];
          ref_m[p][i] = b1 * ref_m[p][i] + (1.0f - b1) * d;
          ref_v[p][i] = b2 * ref_v[p][i] + (1.0f - b2) * d * d;
          ref_w[p][i] = ref_w[p][i] - lr * (ref_m[p][i] / c1) / (std::sqrt(ref_v[p][i] / c2) + eps);
        }
    }
    CHECK(same_bits(w, ref_w));
    CHECK(same_bits(m, ref_m));
    CHECK(same_bits(v, ref_v));
  }
  const float hyper[kAdamHyperCount] = {};
  OptimSlot missing{nullptr, nullptr, nullptr, nullptr, 4};
  CHECK(adam_step(&missing, 1, hyper) == Status::kInvalidArgument);
  CHECK(sgd_step(nullptr, 0, nullptr) == Status::kInvalidArgument);
}

}  // namespace
}  // namespace simdcnn
