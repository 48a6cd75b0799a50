// The training-step kernels (activation and binary gradients, channel sums, global pooling and
// cross-entropy gradients, running statistics, fill and copy) against references written here: the
// elementwise ones operation by operation in float32 (the bits must match on every ISA), the
// reductions in double. Runs once per ISA and per thread count (test_main.cc); outputs start as
// garbage, so a kernel that relies on zeroed memory fails.
#include "kernels/elementwise/no_contract.h"  // the float32 references below round every operation too

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/act/unary_backward.h"
#include "kernels/elementwise/binary_backward.h"
#include "kernels/elementwise/copy.h"
#include "kernels/loss/loss.h"
#include "kernels/norm/norm.h"
#include "kernels/pool/pool2d.h"
#include "test/gemm_test_util.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

std::vector<float> data(size_t n, uint64_t seed, bool specials = false) {
  Rng rng(seed);
  std::vector<float> v(n);
  rng.fill(v);
  if (specials) {
    const float s[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f};
    for (size_t i = 3; i < n; i += 11) v[i] = s[(i / 11) % 5];
  }
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && test::same_floats(a.data(), b.data(), a.size());
}

const size_t kSizes[] = {1, 3, 7, 8, 15, 16, 17, 33, 1000, 4097, 70001};

float unary_grad_ref(UnaryBackwardKind k, float x, float y, float g, float alpha) {
  switch (k) {
    case UnaryBackwardKind::kRelu: return x > 0 ? g : 0.0f;
    case UnaryBackwardKind::kReluOut: return y > 0 ? g : 0.0f;
    case UnaryBackwardKind::kLeakyRelu: return x > 0 ? g : g * alpha;
    case UnaryBackwardKind::kSigmoid: return g * y * (1.0f - y);
    case UnaryBackwardKind::kTanh: return g * (1.0f - y) * (1.0f + y);
  }
  return 0.0f;
}

TEST_CASE("train: unaryBackward vs float32 reference, bitwise, also in place") {
  for (size_t n : kSizes)
    for (int k = 0; k < kUnaryBackwardKindCount; ++k) {
      const auto kind = static_cast<UnaryBackwardKind>(k);
      const std::vector<float> x = data(n, n, true), y = data(n, n + 1, true), dy = data(n, n + 2, true);
      std::vector<float> ref(n), dx(n, 1234.5f);
      for (size_t i = 0; i < n; ++i) ref[i] = unary_grad_ref(kind, x[i], y[i], dy[i], 0.01f);
      CHECK(unary_backward(x.data(), y.data(), dy.data(), dx.data(), static_cast<int64_t>(n), kind, 0.01f) ==
            Status::kOk);
      CHECK(same_bits(dx, ref));
      std::vector<float> inplace = dy;
      CHECK(unary_backward(x.data(), y.data(), inplace.data(), inplace.data(), static_cast<int64_t>(n), kind, 0.01f) ==
            Status::kOk);
      CHECK(same_bits(inplace, ref));
    }
  CHECK(unary_backward(nullptr, nullptr, nullptr, nullptr, 4, UnaryBackwardKind::kRelu, 0) == Status::kInvalidArgument);
  CHECK(unary_backward(nullptr, nullptr, nullptr, nullptr, 0, static_cast<UnaryBackwardKind>(5), 0) ==
        Status::kInvalidArgument);
}

void binary_grad_ref(BinaryKind k, float a, float b, float g, float* ga, float* gb) {
  switch (k) {
    case BinaryKind::kAdd: *ga = g; *gb = g; break;
    case BinaryKind::kSub: *ga = g; *gb = -g; break;
    case BinaryKind::kMul: *ga = g * b; *gb = g * a; break;
    case BinaryKind::kDiv: *ga = g / b; *gb = -g * a / (b * b); break;
  }
}

TEST_CASE("train: binaryBackward same shape vs float32 reference, bitwise") {
  for (size_t n : kSizes)
    for (int k = 0; k < 4; ++k) {
      const auto kind = static_cast<BinaryKind>(k);
      const std::vector<float> a = data(n, 3 * n, true), b = data(n, 3 * n + 1, true), dy = data(n, 3 * n + 2, true);
      std::vector<float> ra(n), rb(n), da(n, 99.0f), db(n, 99.0f);
      for (size_t i = 0; i < n; ++i) binary_grad_ref(kind, a[i], b[i], dy[i], &ra[i], &rb[i]);
      CHECK(binary_backward(a.data(), b.data(), dy.data(), da.data(), db.data(), 1, 1, static_cast<int64_t>(n), kind,
                            BroadcastMode::kSame) == Status::kOk);
      CHECK(same_bits(da, ra));
      CHECK(same_bits(db, rb));
      // One output only, and da written over dy itself.
      std::vector<float> dy2 = dy;
      CHECK(binary_backward(a.data(), b.data(), dy2.data(), dy2.data(), nullptr, 1, 1, static_cast<int64_t>(n), kind,
                            BroadcastMode::kSame) == Status::kOk);
      CHECK(same_bits(dy2, ra));
    }
}

// |got - ref| within 1e-5 of the sum of the magnitudes summed (the scale of a float32 sum's error).
bool sum_close(double got, double ref, double abs_sum) { return std::fabs(got - ref) <= 1e-5 * abs_sum + 1e-30; }

TEST_CASE("train: binaryBackward channel mode vs double reference") {
  struct Shape {
    int64_t N, C, inner;
  };
  for (const Shape& s : {Shape{3, 5, 1}, Shape{3, 5, 13}, Shape{3, 5, 784}, Shape{2, 7, 33}, Shape{1, 1, 4097}})
    for (int k = 0; k < 4; ++k) {
      const auto kind = static_cast<BinaryKind>(k);
      const size_t total = static_cast<size_t>(s.N * s.C * s.inner);
      const std::vector<float> a = data(total, total + k), dy = data(total, total + 7);
      std::vector<float> b = data(static_cast<size_t>(s.C), 11);
      for (float& v : b) v += v >= 0 ? 0.5f : -0.5f;  // away from 0: div's db divides by b^2
      std::vector<float> da(total, 5.0f), db(static_cast<size_t>(s.C), 5.0f);
      CHECK(binary_backward(a.data(), b.data(), dy.data(), da.data(), db.data(), s.N, s.C, s.inner, kind,
                            BroadcastMode::kChannel) == Status::kOk);
      bool da_ok = true;
      for (int64_t c = 0; c < s.C; ++c) {
        double sum = 0, mag = 0;
        for (int64_t n = 0; n < s.N; ++n)
          for (int64_t i = 0; i < s.inner; ++i) {
            const size_t j = static_cast<size_t>((n * s.C + c) * s.inner + i);
            float ga, gb;
            binary_grad_ref(kind, a[j], b[c], dy[j], &ga, &gb);
            da_ok = da_ok && std::memcmp(&ga, &da[j], sizeof ga) == 0;
            const double term = kind == BinaryKind::kDiv ? -static_cast<double>(dy[j]) * a[j] / (double(b[c]) * b[c])
                                : kind == BinaryKind::kMul ? static_cast<double>(dy[j]) * a[j]
                                : kind == BinaryKind::kSub ? -static_cast<double>(dy[j])
                                                           : static_cast<double>(dy[j]);
            sum += term;
            mag += std::fabs(term);
          }
        CHECK(sum_close(db[static_cast<size_t>(c)], sum, mag));
      }
      CHECK(da_ok);
    }
}

TEST_CASE("train: channelSum vs double reference, same bits at 1 and 2 threads") {
  struct Shape {
    int64_t N, C, inner;
  };
  const int threads = num_threads();
  for (const Shape& s : {Shape{3, 5, 1}, Shape{3, 5, 13}, Shape{3, 5, 784}, Shape{1, 1, 1}, Shape{2, 3, 70001},
                         Shape{64, 16, 15}, Shape{4, 33, 17}}) {
    const size_t total = static_cast<size_t>(s.N * s.C * s.inner);
    const std::vector<float> dy = data(total, total);
    std::vector<float> out(static_cast<size_t>(s.C), 7.0f);
    CHECK(channel_sum(dy.data(), out.data(), s.N, s.C, s.inner) == Status::kOk);
    for (int64_t c = 0; c < s.C; ++c) {
      double sum = 0, mag = 0;
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t i = 0; i < s.inner; ++i) {
          const double v = dy[static_cast<size_t>((n * s.C + c) * s.inner + i)];
          sum += v;
          mag += std::fabs(v);
        }
      CHECK(sum_close(out[static_cast<size_t>(c)], sum, mag));
    }
    std::vector<float> other(out.size(), -1.0f);
    set_num_threads(threads == 1 ? 2 : 1);
    CHECK(channel_sum(dy.data(), other.data(), s.N, s.C, s.inner) == Status::kOk);
    set_num_threads(threads);
    CHECK(same_bits(out, other));
  }
}

TEST_CASE("train: globalPool2dBackward vs reference (first max, last NaN, avg share)") {
  for (int64_t HW : {1, 2, 7, 49, 3000})
    for (int mode = 0; mode < 2; ++mode) {
      const int64_t N = 3, C = 5;
      const size_t total = static_cast<size_t>(N * C * HW);
      std::vector<float> x = data(total, static_cast<uint64_t>(HW) * 5 + mode);
      // Ties and NaN in some planes: plane 1 has two equal maxima, plane 2 two NaNs.
      if (HW >= 4) {
        x[static_cast<size_t>(HW) + 1] = x[static_cast<size_t>(HW) + 3] = 5.0f;
        x[static_cast<size_t>(2 * HW) + 1] = x[static_cast<size_t>(2 * HW) + 2] = NAN;
      }
      const std::vector<float> dy = data(static_cast<size_t>(N * C), 77);
      std::vector<float> dx(total, 3.0f), ref(total, 0.0f);
      for (int64_t p = 0; p < N * C; ++p) {
        const float* xp = x.data() + p * HW;
        float* rp = ref.data() + p * HW;
        if (mode == 1) {
          for (int64_t i = 0; i < HW; ++i) rp[i] = static_cast<float>(static_cast<double>(dy[p]) / HW);
          continue;
        }
        int64_t arg = -1;
        float best = -INFINITY;
        for (int64_t i = 0; i < HW; ++i)
          if (xp[i] > best || std::isnan(xp[i]) || arg < 0) {
            best = xp[i];
            arg = i;
          }
        rp[arg] = dy[p];
      }
      CHECK(global_pool2d_backward(x.data(), dy.data(), dx.data(), N, C, HW, static_cast<GlobalPoolMode>(mode)) ==
            Status::kOk);
      CHECK(same_bits(dx, ref));
    }
}

TEST_CASE("train: crossEntropyBackward and crossEntropyInto vs double reference") {
  for (int64_t K : {1, 2, 10, 1000})
    for (int64_t N : {1, 3, 64}) {
      const std::vector<float> logits = data(static_cast<size_t>(N * K), static_cast<uint64_t>(N * 1000 + K));
      std::vector<int32_t> t(static_cast<size_t>(N));
      for (int64_t n = 0; n < N; ++n) t[static_cast<size_t>(n)] = static_cast<int32_t>((n * 7 + 3) % K);
      const float grad_out = 0.75f;
      std::vector<float> dl(static_cast<size_t>(N * K), 42.0f);
      CHECK(cross_entropy_backward(logits.data(), t.data(), N, K, &grad_out, dl.data()) == Status::kOk);
      double loss = 0;
      for (int64_t n = 0; n < N; ++n) {
        const float* row = logits.data() + n * K;
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < K; ++k) m = std::max(m, static_cast<double>(row[k]));
        for (int64_t k = 0; k < K; ++k) s += std::exp(row[k] - m);
        loss += m + std::log(s) - row[t[static_cast<size_t>(n)]];
        for (int64_t k = 0; k < K; ++k) {
          const double p = std::exp(row[k] - m) / s;
          const double ref = 0.75 / N * (p - (k == t[static_cast<size_t>(n)] ? 1.0 : 0.0));
          CHECK_NEAR(dl[static_cast<size_t>(n * K + k)], ref, 1e-9, 1e-6);
        }
      }
      float out = 9.0f;
      CHECK(cross_entropy_into(logits.data(), t.data(), N, K, &out) == Status::kOk);
      CHECK_NEAR(out, loss / N, 1e-7, 1e-6);
      // A target out of range (as a replay may find it) fails before anything is written.
      std::vector<int32_t> bad = t;
      bad.back() = static_cast<int32_t>(K);
      std::vector<float> untouched(dl.size(), 8.0f);
      CHECK(cross_entropy_backward(logits.data(), bad.data(), N, K, &grad_out, untouched.data()) ==
            Status::kInvalidArgument);
      CHECK(untouched == std::vector<float>(dl.size(), 8.0f));
      bad.back() = -1;
      CHECK(cross_entropy_into(logits.data(), bad.data(), N, K, &out) == Status::kInvalidArgument);
    }
}

TEST_CASE("train: runningStatsUpdate as the JS loop (double, stored as float32)") {
  const std::vector<float> mean = data(37, 1), var = data(37, 2);
  std::vector<float> rm = data(37, 3), rv = data(37, 4);
  const std::vector<float> rm0 = rm, rv0 = rv;
  const double m = 0.1, unbias = 50.0 / 49.0;
  CHECK(running_stats_update(rm.data(), rv.data(), mean.data(), var.data(), 37, m, unbias) == Status::kOk);
  bool ok = true;
  for (size_t c = 0; c < 37; ++c) {
    const float em = static_cast<float>((1 - m) * rm0[c] + m * mean[c]);
    const float ev = static_cast<float>((1 - m) * rv0[c] + m * var[c] * unbias);
    ok = ok && em == rm[c] && ev == rv[c];
  }
  CHECK(ok);
}

TEST_CASE("train: fill and copy") {
  for (size_t n : kSizes) {
    std::vector<float> y(n, 1.0f);
    CHECK(fill_floats(y.data(), static_cast<int64_t>(n), -2.5f) == Status::kOk);
    CHECK(y == std::vector<float>(n, -2.5f));
    const std::vector<float> x = data(n, n, true);
    CHECK(copy_floats(x.data(), y.data(), static_cast<int64_t>(n)) == Status::kOk);
    CHECK(same_bits(x, y));
  }
  CHECK(fill_floats(nullptr, 3, 0.0f) == Status::kInvalidArgument);
  CHECK(copy_floats(nullptr, nullptr, -1) == Status::kInvalidArgument);
}

}  // namespace
}  // namespace simdcnn
