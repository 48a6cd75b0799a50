// The kernels whose per-element arithmetic is the same on every ISA (IEEE add/sub/mul/div, compares
// and selects, one-rounding sums in the same order), run on the active ISA and on scalar: the bits
// must match, NaN and infinities included. Lengths and widths hit every vector tail of 4, 8 and 16
// lanes. (The FMA kernels are checked against float64 references elsewhere.)
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/dispatch.h"
#include "kernels/act/unary.h"
#include "kernels/act/unary_backward.h"
#include "kernels/elementwise/binary_backward.h"
#include "kernels/optim/optim.h"
#include "kernels/elementwise/binary.h"
#include "kernels/pool/pool2d.h"
#include "test/gemm_test_util.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

// Runs f() on scalar and on the active ISA and compares the bytes of what it writes to out.
template <class F>
bool same_as_scalar(std::vector<float>& out, F f) {
  const Isa here = active_isa();
  std::vector<float> ref(out.size(), 7.0f), got(out.size(), 7.0f);
  set_active_isa(Isa::kScalar);
  out = ref;
  const bool ok_ref = f() == Status::kOk;
  ref = out;
  set_active_isa(here);
  out = got;
  const bool ok_got = f() == Status::kOk;
  got = out;
  return ok_ref && ok_got && test::same_floats(ref.data(), got.data(), ref.size());
}

std::vector<float> data(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  rng.fill(v);
  const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f};
  for (size_t i = 0; i < n; i += 7) v[i] = special[(i / 7) % 5];
  return v;
}

TEST_CASE("vs_scalar: binary ops, bitwise") {
  for (size_t n : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 1001}) {
    const std::vector<float> a = data(n, n), b = data(n, n + 100);
    std::vector<float> y(n);
    for (int k = 0; k < 4; ++k) {
      CHECK(same_as_scalar(y, [&] {
        return binary(a.data(), b.data(), y.data(), 1, 1, static_cast<int64_t>(n), static_cast<BinaryKind>(k),
                      BroadcastMode::kSame);
      }));
      CHECK(same_as_scalar(y, [&] {  // one channel: b[0] broadcast over a
        return binary(a.data(), b.data(), y.data(), 1, 1, static_cast<int64_t>(n), static_cast<BinaryKind>(k),
                      BroadcastMode::kChannel);
      }));
    }
  }
}

TEST_CASE("vs_scalar: ReLU, LeakyReLU, Clip, HardSwish, bitwise") {
  for (size_t n : {1, 2, 3, 4, 5, 11, 16, 17, 100}) {
    const std::vector<float> x = data(n, 7 * n);
    std::vector<float> y(n);
    for (UnaryKind k : {UnaryKind::kRelu, UnaryKind::kLeakyRelu, UnaryKind::kClip, UnaryKind::kHardSwish})
      CHECK(same_as_scalar(y, [&] { return unary(x.data(), y.data(), static_cast<int64_t>(n), k, -0.5f, 0.75f); }));
  }
}

TEST_CASE("vs_scalar: unaryBackward, binaryBackward (same shape, channel da), bitwise") {
  for (size_t n : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 1001}) {
    const std::vector<float> x = data(n, 3 * n), y = data(n, 3 * n + 1), dy = data(n, 3 * n + 2);
    std::vector<float> out(n);
    for (int k = 0; k < kUnaryBackwardKindCount; ++k)
      CHECK(same_as_scalar(out, [&] {
        return unary_backward(x.data(), y.data(), dy.data(), out.data(), static_cast<int64_t>(n),
                              static_cast<UnaryBackwardKind>(k), -0.25f);
      }));
    std::vector<float> both(2 * n);
    for (int k = 0; k < 4; ++k) {
      CHECK(same_as_scalar(both, [&] {
        return binary_backward(x.data(), y.data(), dy.data(), both.data(), both.data() + n, 1, 1,
                               static_cast<int64_t>(n), static_cast<BinaryKind>(k), BroadcastMode::kSame);
      }));
      CHECK(same_as_scalar(out, [&] {  // one channel: da = dy op b[0]
        return binary_backward(x.data(), y.data(), dy.data(), out.data(), nullptr, 1, 1, static_cast<int64_t>(n),
                               static_cast<BinaryKind>(k), BroadcastMode::kChannel);
      }));
    }
  }
}

TEST_CASE("vs_scalar: sgdStep and adamStep, bitwise") {
  for (size_t n : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 1001}) {
    const std::vector<float> w0 = data(n, 5 * n), g = data(n, 5 * n + 1), s0 = data(n, 5 * n + 2);
    std::vector<float> v0 = data(n, 5 * n + 3);
    for (float& e : v0) e = std::fabs(e);  // a second moment is never negative
    // out holds w, then the state arrays, so same_as_scalar compares everything the step writes.
    std::vector<float> out(3 * n);
    for (float nesterov : {0.0f, 1.0f})
      for (float first : {0.0f, 1.0f}) {
        const float hyper[kSgdHyperCount] = {0.05f, 0.9f, nesterov != 0 ? 0.0f : 0.1f, 1e-3f, nesterov, first};
        CHECK(same_as_scalar(out, [&] {
          std::copy(w0.begin(), w0.end(), out.begin());
          std::copy(s0.begin(), s0.end(), out.begin() + n);
          const OptimSlot slot{out.data(), g.data(), out.data() + n, nullptr, n};
          return sgd_step(&slot, 1, hyper);
        }));
      }
    const float hyper[kAdamHyperCount] = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.271f, 0.002997f};
    CHECK(same_as_scalar(out, [&] {
      std::copy(w0.begin(), w0.end(), out.begin());
      std::copy(s0.begin(), s0.end(), out.begin() + n);
      std::copy(v0.begin(), v0.end(), out.begin() + 2 * n);
      const OptimSlot slot{out.data(), g.data(), out.data() + n, out.data() + 2 * n, n};
      return adam_step(&slot, 1, hyper);
    }));
  }
}

TEST_CASE("vs_scalar: pool2d max/avg/min and max/min backward, bitwise") {
  struct G {
    int64_t H, W, k, s, pad, dil;
    bool ceil;
  };
  const G geoms[] = {{5, 5, 2, 2, 0, 1, false}, {7, 13, 3, 2, 1, 1, false}, {9, 17, 3, 1, 1, 1, false},
                     {6, 31, 2, 3, 1, 2, false}, {11, 9, 5, 2, 2, 1, false}, {1, 23, 1, 1, 0, 1, false},
                     // The direct max/min path (AVX-512): row blocks of 4 and leftovers, several
                     // chunks, masked first/last chunks, ceil mode past the right and bottom edges.
                     {58, 58, 3, 2, 1, 1, false}, {27, 27, 3, 2, 0, 1, true}, {14, 40, 3, 1, 1, 1, false},
                     {13, 40, 3, 2, 0, 1, false}, {8, 35, 7, 1, 3, 1, false}, {9, 37, 3, 2, 1, 2, false},
                     {10, 50, 4, 2, 2, 1, true}, {12, 12, 2, 2, 0, 1, true}, {7, 7, 2, 2, 0, 1, false}};
  uint64_t seed = 1;
  for (const G& g : geoms)
    for (int mode = 0; mode < 3; ++mode) {
      Pool2dParams p;
      p.N = 1;
      p.C = 3;
      p.H = g.H;
      p.W = g.W;
      p.kH = p.kW = g.k;
      p.stride_h = p.stride_w = g.s;
      p.pad_h = p.pad_w = g.pad;
      p.ceil_mode = g.ceil;
      p.mode = static_cast<PoolMode>(mode);
      p.dilation_h = p.dilation_w = p.mode == PoolMode::kAvg ? 1 : g.dil;
      int64_t OH = 0, OW = 0;
      if (pool2d_check(p, &OH, &OW) != PoolGeomError::kNone) continue;
      const std::vector<float> x = data(static_cast<size_t>(p.C * g.H * g.W), seed++);
      std::vector<float> y(static_cast<size_t>(p.C * OH * OW));
      CHECK(same_as_scalar(y, [&] { return pool2d(x.data(), y.data(), p); }));
      const std::vector<float> dy = data(y.size(), seed++);
      std::vector<float> dx(x.size());
      CHECK(same_as_scalar(dx, [&] { return pool2d_backward(x.data(), dy.data(), dx.data(), p); }));
    }
}

TEST_CASE("vs_scalar: globalPool2d average (16 partial sums in double), bitwise") {
  for (int64_t hw : {1, 2, 7, 15, 16, 17, 31, 33, 49, 196, 1001}) {
    std::vector<float> x = data(static_cast<size_t>(5 * hw), static_cast<uint64_t>(hw));
    // Finite planes too (data() puts a NaN or an infinity into most planes), with magnitudes far
    // apart so that the order of the double additions shows in the rounding.
    for (int64_t i = 0; i < hw; ++i) x[static_cast<size_t>(4 * hw + i)] = (i % 3 ? 1e-8f : 3e7f) * (i % 2 ? -1.0f : 1.0f) + static_cast<float>(i);
    std::vector<float> y(5);
    CHECK(same_as_scalar(y, [&] { return global_pool2d(x.data(), y.data(), 1, 5, hw, GlobalPoolMode::kAvg); }));
  }
}

}  // namespace
}  // namespace simdcnn
