// The ops family (pool, norm, act, elementwise, loss) against naive double references, on shapes
// with tails (1, primes, C not a multiple of the vector width, H/W = 1). Runs once per ISA and per
// thread count (test_main.cc).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/act/softmax.h"
#include "kernels/act/unary.h"
#include "kernels/elementwise/binary.h"
#include "kernels/elementwise/copy.h"
#include "kernels/loss/loss.h"
#include "kernels/norm/norm.h"
#include "kernels/pool/pool2d.h"
#include "test/harness.h"

using namespace simdcnn;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// ---------------------------------------------------------------- pooling reference

int64_t ref_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t eff = d * (k - 1) + 1;
  const int64_t span = in + 2 * p - eff;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

std::vector<double> ref_pool(const std::vector<float>& x, const Pool2dParams& p, int64_t OH, int64_t OW) {
  std::vector<double> y(static_cast<size_t>(p.N * p.C * OH * OW));
  for (int64_t nc = 0; nc < p.N * p.C; ++nc) {
    const float* xp = x.data() + nc * p.H * p.W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t hs = oh * p.stride_h - p.pad_h, ws = ow * p.stride_w - p.pad_w;
        double r;
        if (p.mode == PoolMode::kAvg) {
          const int64_t he = std::min(hs + p.kH, p.H + p.pad_h), we = std::min(ws + p.kW, p.W + p.pad_w);
          const int64_t pool_size = (he - hs) * (we - ws);
          const int64_t h0 = std::max<int64_t>(hs, 0), w0 = std::max<int64_t>(ws, 0);
          const int64_t h1 = std::min(he, p.H), w1 = std::min(we, p.W);
          double s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * p.W + iw];
          r = s / static_cast<double>(p.count_include_pad ? pool_size : (h1 - h0) * (w1 - w0));
        } else {
          const bool mx = p.mode == PoolMode::kMax;
          r = mx ? -INFINITY : INFINITY;
          for (int64_t kh = 0; kh < p.kH; ++kh)
            for (int64_t kw = 0; kw < p.kW; ++kw) {
              const int64_t ih = hs + kh * p.dilation_h, iw = ws + kw * p.dilation_w;
              if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
              const double v = xp[ih * p.W + iw];
              if (mx ? v > r : v < r) r = v;
            }
        }
        y[static_cast<size_t>((nc * OH + oh) * OW + ow)] = r;
      }
  }
  return y;
}

std::vector<float> run_pool(const std::vector<float>& x, const Pool2dParams& p, int64_t* OH, int64_t* OW) {
  CHECK(pool2d_check(p, OH, OW) == PoolGeomError::kNone);
  std::vector<float> y(static_cast<size_t>(p.N * p.C * *OH * *OW), 12345.0f);
  CHECK(pool2d(x.data(), y.data(), p) == Status::kOk);
  return y;
}

const float kSeed[16] = {1, 3, 2, 1, 2, 9, 1, 1, 1, 3, 2, 3, 5, 6, 1, 2};

void expect_seed(PoolMode mode, int64_t k, int64_t s, const std::vector<float>& want) {
  Pool2dParams p;
  p.N = p.C = 1;
  p.H = p.W = 4;
  p.kH = p.kW = k;
  p.stride_h = p.stride_w = s;
  p.mode = mode;
  int64_t OH = 0, OW = 0;
  std::vector<float> x(kSeed, kSeed + 16);
  const auto y = run_pool(x, p, &OH, &OW);
  CHECK(static_cast<size_t>(OH * OW) == want.size());
  for (size_t i = 0; i < want.size() && i < y.size(); ++i) CHECK_NEAR(y[i], want[i], 0, 0);
}

}  // namespace

TEST_CASE("pool2d seed 4x4") {
  expect_seed(PoolMode::kMax, 2, 2, {9, 2, 6, 3});
  expect_seed(PoolMode::kAvg, 2, 2, {3.75f, 1.25f, 3.75f, 2.0f});
  expect_seed(PoolMode::kMin, 2, 2, {1, 1, 1, 1});
  expect_seed(PoolMode::kMax, 2, 1, {9, 9, 2, 9, 9, 3, 6, 6, 3});
  expect_seed(PoolMode::kAvg, 2, 1, {3.75f, 3.75f, 1.25f, 3.75f, 3.75f, 1.75f, 3.75f, 3.0f, 2.0f});
}

TEST_CASE("pool2d vs reference: every option") {
  const int64_t sizes[] = {1, 2, 5, 7, 13, 33};
  // 70 and 113: stride-2 rows with several full vectors (the even-lane path, unrolled by two).
  const int64_t widths[] = {1, 2, 5, 7, 13, 33, 70, 113};
  std::mt19937 rng(7);
  int configs = 0;
  for (int64_t H : sizes)
    for (int64_t W : widths)
      for (int mode = 0; mode < 3; ++mode)
        for (int64_t k = 1; k <= 4; ++k)
          for (int64_t s = 1; s <= 3; ++s)
            for (int ceil_mode = 0; ceil_mode < 2; ++ceil_mode) {
              // Random padding / dilation / countIncludePad / channels / non-square kernel.
              Pool2dParams p;
              p.N = 1 + rng() % 2;
              p.C = (rng() % 3 == 0) ? 17 : 1 + rng() % 3;
              p.H = H;
              p.W = W;
              p.kH = k;
              p.kW = 1 + rng() % 4;
              p.stride_h = s;
              p.stride_w = 1 + rng() % 3;
              p.pad_h = rng() % (p.kH / 2 + 1);
              p.pad_w = rng() % (p.kW / 2 + 1);
              p.mode = static_cast<PoolMode>(mode);
              if (p.mode != PoolMode::kAvg) {
                p.dilation_h = 1 + rng() % 2;
                p.dilation_w = 1 + rng() % 3;
              }
              p.ceil_mode = ceil_mode != 0;
              p.count_include_pad = rng() % 2 == 0;
              const int64_t OH = ref_out_size(H, p.kH, p.stride_h, p.pad_h, p.dilation_h, p.ceil_mode);
              const int64_t OW = ref_out_size(W, p.kW, p.stride_w, p.pad_w, p.dilation_w, p.ceil_mode);
              int64_t oh = 0, ow = 0;
              const PoolGeomError e = pool2d_check(p, &oh, &ow);
              if (OH < 1 || OW < 1) {
                CHECK(e == PoolGeomError::kEmptyOutput);
                continue;
              }
              CHECK(e == PoolGeomError::kNone);
              if (e != PoolGeomError::kNone) continue;
              CHECK(oh == OH && ow == OW);
              const auto x = random_vec(static_cast<size_t>(p.N * p.C * H * W), static_cast<uint32_t>(rng()));
              const auto y = run_pool(x, p, &oh, &ow);
              const auto r = ref_pool(x, p, OH, OW);
              const double window = static_cast<double>(p.kH * p.kW);
              int bad = 0;
              for (size_t i = 0; i < r.size(); ++i) {
                // max/min pick an input exactly; avg sums kH*kW floats (|x| <= 1).
                const double atol = p.mode == PoolMode::kAvg ? 2e-7 * window : 0.0;
                // A dilated window can miss every real cell: then both give the identity (+-inf).
                if (static_cast<double>(y[i]) == r[i]) continue;
                if (!test::near(y[i], r[i], atol, p.mode == PoolMode::kAvg ? 1e-6 : 0.0) && bad++ < 3)
                  CHECK_NEAR(y[i], r[i], atol, 1e-6);
              }
              CHECK(bad == 0);
              ++configs;
            }
  CHECK(configs > 1000);
}

TEST_CASE("pool2d geometry errors") {
  Pool2dParams p;
  p.N = p.C = 1;
  p.H = p.W = 8;
  p.kH = p.kW = 3;
  p.pad_h = 2;  // > 3 / 2
  CHECK(pool2d_check(p, nullptr, nullptr) == PoolGeomError::kPadTooLarge);
  p.pad_h = 1;
  p.mode = PoolMode::kAvg;
  p.dilation_w = 2;
  CHECK(pool2d_check(p, nullptr, nullptr) == PoolGeomError::kAvgDilation);
  p.dilation_w = 1;
  p.kH = 11;
  p.pad_h = 0;
  CHECK(pool2d_check(p, nullptr, nullptr) == PoolGeomError::kEmptyOutput);
  // A window wider than kMaxPoolWindow is refused before anything is sized by it (an ONNX file's
  // kernel_shape of 2^31 - 1 with SAME padding asked for an 8 GiB padded row).
  p.kH = 3;
  p.kW = kMaxElements;
  p.pad_w = kMaxElements / 2;
  CHECK(pool2d_check(p, nullptr, nullptr) == PoolGeomError::kWindowTooLarge);
  p.kW = 3;
  p.pad_w = 0;
  p.dilation_h = kMaxPoolWindow;  // extent 2 * 2^24 + 1
  p.mode = PoolMode::kMax;
  CHECK(pool2d_check(p, nullptr, nullptr) == PoolGeomError::kWindowTooLarge);
  p.dilation_h = 1;
  p.kH = 0;
  CHECK(pool2d_check(p, nullptr, nullptr) == PoolGeomError::kBadSize);
  float x[64] = {}, y[64] = {};
  CHECK(pool2d(x, y, p) == Status::kInvalidArgument);
}

TEST_CASE("pool2d NaN propagates through max and min") {
  Pool2dParams p;
  p.N = p.C = 1;
  p.H = 1;
  p.W = 40;
  p.kH = 1;
  p.kW = 2;
  p.stride_w = 2;
  std::vector<float> x(40, 1.0f);
  x[0] = NAN;   // first tap of window 0
  x[21] = NAN;  // second tap of window 10
  for (int mode : {0, 2}) {
    p.mode = static_cast<PoolMode>(mode);
    int64_t OH, OW;
    const auto y = run_pool(x, p, &OH, &OW);
    CHECK(std::isnan(y[0]) && std::isnan(y[10]) && y[1] == 1.0f && y[19] == 1.0f);
  }
}

TEST_CASE("globalPool2d vs reference") {
  for (int64_t C : {1, 3, 17}) {
    for (int64_t HW : {1, 7, 49, 257}) {
      const int64_t N = 2;
      const auto x = random_vec(static_cast<size_t>(N * C * HW), static_cast<uint32_t>(C * 1000 + HW));
      std::vector<float> ymax(static_cast<size_t>(N * C)), yavg(static_cast<size_t>(N * C));
      CHECK(global_pool2d(x.data(), ymax.data(), N, C, HW, GlobalPoolMode::kMax) == Status::kOk);
      CHECK(global_pool2d(x.data(), yavg.data(), N, C, HW, GlobalPoolMode::kAvg) == Status::kOk);
      for (int64_t p = 0; p < N * C; ++p) {
        double mx = -INFINITY, s = 0;
        for (int64_t i = 0; i < HW; ++i) {
          mx = std::max(mx, static_cast<double>(x[p * HW + i]));
          s += x[p * HW + i];
        }
        CHECK_NEAR(ymax[p], mx, 0, 0);
        CHECK_NEAR(yavg[p], s / HW, 1e-7, 1e-6);
      }
    }
  }
}

// ---------------------------------------------------------------- norms

TEST_CASE("batchNorm2d / channelStats fixture") {
  const float x[4] = {1, 2, 3, 4};
  float mean = 0, var = 0;
  CHECK(channel_stats(x, 1, 1, 4, &mean, &var) == Status::kOk);
  CHECK_NEAR(mean, 2.5, 0, 0);
  CHECK_NEAR(var, 1.25, 0, 0);
  float y[4];
  CHECK(batch_norm2d(x, y, 1, 1, 4, &mean, &var, nullptr, nullptr, 1e-5f) == Status::kOk);
  const double want[4] = {-1.341635, -0.447212, 0.447212, 1.341635};
  for (int i = 0; i < 4; ++i) CHECK_NEAR(y[i], want[i], 1e-6, 1e-6);
}

TEST_CASE("batchNorm2d vs reference") {
  for (int64_t C : {1, 3, 17}) {
    for (int64_t HW : {1, 5, 33, 196}) {
      const int64_t N = 3;
      const auto x = random_vec(static_cast<size_t>(N * C * HW), static_cast<uint32_t>(C + HW), -3, 3);
      const auto mean = random_vec(static_cast<size_t>(C), 11);
      const auto var = random_vec(static_cast<size_t>(C), 12, 0.1f, 2.0f);
      const auto w = random_vec(static_cast<size_t>(C), 13);
      const auto b = random_vec(static_cast<size_t>(C), 14);
      for (int affine = 0; affine < 2; ++affine) {
        std::vector<float> y(x.size());
        CHECK(batch_norm2d(x.data(), y.data(), N, C, HW, mean.data(), var.data(), affine ? w.data() : nullptr,
                           affine ? b.data() : nullptr, 1e-5f) == Status::kOk);
        for (int64_t i = 0; i < N * C * HW; ++i) {
          const int64_t c = (i / HW) % C;
          double r = (x[i] - static_cast<double>(mean[c])) / std::sqrt(static_cast<double>(var[c]) + 1e-5f);
          if (affine) r = r * w[c] + b[c];
          CHECK_NEAR(y[i], r, 1e-6, 1e-6);
        }
      }
    }
  }
}

TEST_CASE("channelStats vs reference (large offset)") {
  for (int64_t C : {1, 3, 17}) {
    for (int64_t HW : {1, 7, 100}) {
      const int64_t N = 5;
      auto x = random_vec(static_cast<size_t>(N * C * HW), static_cast<uint32_t>(C * 7 + HW));
      // A large common offset: E[x^2] - E[x]^2 would lose the variance entirely.
      for (auto& v : x) v = 1000.0f + v;
      std::vector<float> mean(static_cast<size_t>(C)), var(static_cast<size_t>(C));
      CHECK(channel_stats(x.data(), N, C, HW, mean.data(), var.data()) == Status::kOk);
      for (int64_t c = 0; c < C; ++c) {
        double s = 0, q = 0;
        const int64_t cnt = N * HW;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < HW; ++i) s += x[(n * C + c) * HW + i];
        const double m = s / cnt;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < HW; ++i) {
            const double d = x[(n * C + c) * HW + i] - m;
            q += d * d;
          }
        CHECK_NEAR(mean[c], m, 0, 1e-7);
        CHECK_NEAR(var[c], q / cnt, 1e-9, 1e-6);
      }
    }
  }
}

TEST_CASE("layerNorm / instanceNorm2d vs reference") {
  for (int64_t outer : {1, 3, 10}) {
    for (int64_t inner : {1, 7, 16, 17, 130}) {
      const auto x = random_vec(static_cast<size_t>(outer * inner), static_cast<uint32_t>(outer * 31 + inner), -2, 5);
      const auto w = random_vec(static_cast<size_t>(inner), 21);
      const auto b = random_vec(static_cast<size_t>(inner), 22);
      for (int affine = 0; affine < 2; ++affine) {
        std::vector<float> y(x.size());
        CHECK(layer_norm(x.data(), y.data(), outer, inner, affine ? w.data() : nullptr, affine ? b.data() : nullptr,
                         1e-5f) == Status::kOk);
        for (int64_t r = 0; r < outer; ++r) {
          double s = 0, q = 0;
          for (int64_t i = 0; i < inner; ++i) s += x[r * inner + i];
          const double m = s / inner;
          for (int64_t i = 0; i < inner; ++i) q += (x[r * inner + i] - m) * (x[r * inner + i] - m);
          const double rstd = 1.0 / std::sqrt(q / inner + 1e-5f);
          for (int64_t i = 0; i < inner; ++i) {
            double v = (x[r * inner + i] - m) * rstd;
            if (affine) v = v * w[i] + b[i];
            CHECK_NEAR(y[r * inner + i], v, 2e-6, 2e-6);
          }
        }
      }
    }
  }
  for (int64_t C : {1, 3, 17}) {
    for (int64_t HW : {1, 9, 50}) {
      const int64_t N = 2;
      const auto x = random_vec(static_cast<size_t>(N * C * HW), static_cast<uint32_t>(C * 3 + HW), -1, 4);
      const auto w = random_vec(static_cast<size_t>(C), 23);
      const auto b = random_vec(static_cast<size_t>(C), 24);
      for (int affine = 0; affine < 2; ++affine) {
        std::vector<float> y(x.size());
        CHECK(instance_norm2d(x.data(), y.data(), N, C, HW, affine ? w.data() : nullptr,
                              affine ? b.data() : nullptr, 1e-5f) == Status::kOk);
        for (int64_t p = 0; p < N * C; ++p) {
          const int64_t c = p % C;
          double s = 0, q = 0;
          for (int64_t i = 0; i < HW; ++i) s += x[p * HW + i];
          const double m = s / HW;
          for (int64_t i = 0; i < HW; ++i) q += (x[p * HW + i] - m) * (x[p * HW + i] - m);
          const double rstd = 1.0 / std::sqrt(q / HW + 1e-5f);
          for (int64_t i = 0; i < HW; ++i) {
            double v = (x[p * HW + i] - m) * rstd;
            if (affine) v = v * w[c] + b[c];
            CHECK_NEAR(y[p * HW + i], v, 2e-6, 2e-6);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- activations

TEST_CASE("unary vs reference") {
  for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{17}, size_t{33}, size_t{1031}}) {
    auto x = random_vec(n, static_cast<uint32_t>(n), -12, 12);
    // Edge values: large magnitudes, the tanh branch point, signed zeros.
    const float edges[] = {0.0f, -0.0f, 0.625f, -0.625f, 0.6249f, 90.0f, -90.0f, 200.0f, -200.0f, 1e-6f, -1e-6f};
    for (size_t i = 0; i < n && i < sizeof edges / sizeof edges[0]; ++i) x[i] = edges[i];
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<float> y(n);
      CHECK(unary(x.data(), y.data(), static_cast<int64_t>(n), static_cast<UnaryKind>(kind), 0.1f) == Status::kOk);
      for (size_t i = 0; i < n; ++i) {
        const double v = x[i];
        double r = 0;
        switch (kind) {
          case 0: r = v > 0 ? v : 0; break;
          case 1: r = v > 0 ? v : v * static_cast<double>(0.1f); break;
          case 2: r = 1.0 / (1.0 + std::exp(-v)); break;
          case 3: r = std::tanh(v); break;
        }
        // relu exact; leaky one rounding; sigmoid/tanh a few ulps (exp(-87) clamp below 1e-37).
        CHECK_NEAR(y[i], r, kind < 2 ? 0.0 : 1e-37, kind == 0 ? 0.0 : 6e-7);
      }
    }
  }
}

// The inference-only kinds (clip, silu, hardSigmoid, hardSwish) against double-precision
// references, with the parameters ONNX and PyTorch use (ReLU6, HardSigmoid 1/6 and 0.2).
TEST_CASE("unary inference-only kinds vs reference") {
  for (size_t n : {size_t{1}, size_t{7}, size_t{17}, size_t{33}, size_t{1031}}) {
    auto x = random_vec(n, static_cast<uint32_t>(n) + 5, -12, 12);
    const float edges[] = {0.0f, -0.0f, 3.0f, -3.0f, 6.0f, 90.0f, -90.0f, 2.5f, -2.5f, 1e-6f};
    for (size_t i = 0; i < n && i < sizeof edges / sizeof edges[0]; ++i) x[i] = edges[i];
    struct Case { UnaryKind kind; float alpha, beta; };
    const Case cases[] = {{UnaryKind::kClip, 0.0f, 6.0f}, {UnaryKind::kClip, -1.5f, 2.25f}, {UnaryKind::kSilu, 0, 0},
                          {UnaryKind::kHardSigmoid, 1.0f / 6.0f, 0.5f}, {UnaryKind::kHardSigmoid, 0.2f, 0.5f},
                          {UnaryKind::kHardSwish, 0, 0}};
    for (const Case& c : cases) {
      std::vector<float> y(n);
      CHECK(unary(x.data(), y.data(), static_cast<int64_t>(n), c.kind, c.alpha, c.beta) == Status::kOk);
      for (size_t i = 0; i < n; ++i) {
        const double v = x[i];
        double r = 0;
        switch (c.kind) {
          case UnaryKind::kClip: r = std::min<double>(c.beta, std::max<double>(c.alpha, v)); break;
          case UnaryKind::kSilu: r = v / (1.0 + std::exp(-v)); break;
          case UnaryKind::kHardSigmoid: r = std::min(1.0, std::max(0.0, double{c.alpha} * v + c.beta)); break;
          case UnaryKind::kHardSwish: r = v * std::min(1.0, std::max(0.0, v / 6.0 + 0.5)); break;
          default: break;
        }
        // clip exact; the others a few roundings (silu: sigmoid's ulps times |v| <= 12).
        CHECK_NEAR(y[i], r, c.kind == UnaryKind::kClip ? 0.0 : 1e-30, c.kind == UnaryKind::kClip ? 0.0 : 8e-7);
      }
    }
  }
  // sqrt (of |x|: correctly rounded) and erf against the C library's double erf, relative: the
  // small arguments (1e-7 .. 1e-2) would pass any absolute bound.
  for (size_t n : {size_t{1}, size_t{17}, size_t{1031}}) {
    auto x = random_vec(n, static_cast<uint32_t>(n) + 11, -6, 6);
    const float edges[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.999f, 1.001f, 1e-7f, -3e-4f, 0.01f, 9.0f, 30.0f, -30.0f};
    for (size_t i = 0; i < n && i < sizeof edges / sizeof edges[0]; ++i) x[i] = edges[i];
    std::vector<float> a(n), y(n);
    for (size_t i = 0; i < n; ++i) a[i] = std::fabs(x[i]);
    CHECK(unary(a.data(), y.data(), static_cast<int64_t>(n), UnaryKind::kSqrt, 0, 0) == Status::kOk);
    for (size_t i = 0; i < n; ++i) CHECK(y[i] == std::sqrt(a[i]));
    CHECK(unary(x.data(), y.data(), static_cast<int64_t>(n), UnaryKind::kErf, 0, 0) == Status::kOk);
    for (size_t i = 0; i < n; ++i) CHECK_NEAR(y[i], std::erf(static_cast<double>(x[i])), 0.0, 2.5e-7);
  }
  const float nan_in[2] = {NAN, 1.0f};
  float nan_out[2];
  for (int k = 4; k < kUnaryKindCount; ++k) {
    CHECK(unary(nan_in, nan_out, 2, static_cast<UnaryKind>(k), 0.0f, 6.0f) == Status::kOk);
    CHECK(std::isnan(nan_out[0]));
  }
  CHECK(unary(nan_in, nan_out, 2, static_cast<UnaryKind>(kUnaryKindCount), 0, 0) == Status::kInvalidArgument);
}

// A [2, 3, 4] -> [4, 3, 2] transpose as runs of 1, and a [3, 4] block of a [5, 7] matrix as runs of 4:
// every output element against its index formula, the gaps of a strided output untouched.
TEST_CASE("copy_strided: transposes and slices vs index formulas; bad arguments") {
  std::vector<float> x(5 * 7);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) + 0.25f;
  {
    std::vector<float> y(24, -1.0f);
    const CopyAxis axes[] = {{4, 1, 6}, {3, 4, 2}, {2, 12, 1}};
    CHECK(copy_strided(x.data(), y.data(), 1, axes, 3) == Status::kOk);
    for (int c = 0; c < 4; ++c)
      for (int b = 0; b < 3; ++b)
        for (int a = 0; a < 2; ++a) CHECK(y[static_cast<size_t>(c * 6 + b * 2 + a)] == x[static_cast<size_t>(a * 12 + b * 4 + c)]);
  }
  {
    std::vector<float> y(3 * 9, -1.0f);  // rows of 4 written 9 apart
    const CopyAxis axes[] = {{3, 7, 9}};
    CHECK(copy_strided(x.data() + 7 + 2, y.data(), 4, axes, 1) == Status::kOk);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 9; ++c) CHECK(y[static_cast<size_t>(r * 9 + c)] == (c < 4 ? x[static_cast<size_t>((r + 1) * 7 + 2 + c)] : -1.0f));
  }
  {
    // The tiled transpose (single floats, x contiguous along the second-to-last axis, y along the
    // last): 2 images of [C 37, HW 45] -> [HW, C] with rows of y 40 apart (3 untouched), 16 x 16
    // tiles with tails in both directions, at 1 and 2 threads.
    const int64_t C = 37, HW = 45, ys = 40, img_x = C * HW, img_y = HW * ys;
    std::vector<float> src(static_cast<size_t>(2 * img_x));
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) * 0.5f - 7.0f;
    const int saved = num_threads();
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      std::vector<float> y(static_cast<size_t>(2 * img_y), -1.0f);
      const CopyAxis axes[] = {{2, img_x, img_y}, {HW, 1, ys}, {C, HW, 1}};
      CHECK(copy_strided(src.data(), y.data(), 1, axes, 3) == Status::kOk);
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t p = 0; p < HW; ++p)
          for (int64_t c = 0; c < ys; ++c)
            CHECK(y[static_cast<size_t>(n * img_y + p * ys + c)] ==
                  (c < C ? src[static_cast<size_t>(n * img_x + c * HW + p)] : -1.0f));
    }
    set_num_threads(saved);
  }
  float one = 0.0f;
  CHECK(copy_strided(x.data(), &one, 1, nullptr, 0) == Status::kOk && one == x[0]);
  const CopyAxis none[] = {{0, 1, 1}};
  CHECK(copy_strided(nullptr, nullptr, 4, none, 1) == Status::kOk);
  const CopyAxis neg[] = {{2, -1, 1}};
  CHECK(copy_strided(x.data(), &one, 1, neg, 1) == Status::kInvalidArgument);
  CHECK(copy_strided(x.data(), &one, -1, nullptr, 0) == Status::kInvalidArgument);
  CHECK(copy_strided(x.data(), &one, 1, nullptr, kCopyMaxRank + 1) == Status::kInvalidArgument);
  CHECK(copy_strided(nullptr, &one, 1, nullptr, 0) == Status::kInvalidArgument);
}

TEST_CASE("unary NaN and infinities") {
  const float x[5] = {NAN, kInf, -kInf, NAN, 3.0f};
  float y[5];
  CHECK(unary(x, y, 5, UnaryKind::kRelu, 0) == Status::kOk);
  CHECK(std::isnan(y[0]) && y[1] == kInf && y[2] == 0.0f);
  CHECK(unary(x, y, 5, UnaryKind::kLeakyRelu, 0.5f) == Status::kOk);
  CHECK(std::isnan(y[0]) && y[1] == kInf && y[2] == -kInf);
  CHECK(unary(x, y, 5, UnaryKind::kSigmoid, 0) == Status::kOk);
  CHECK(std::isnan(y[0]) && y[1] == 1.0f && y[2] >= 0.0f && y[2] < 1e-37f);
  CHECK(unary(x, y, 5, UnaryKind::kTanh, 0) == Status::kOk);
  CHECK(std::isnan(y[0]) && y[1] == 1.0f && y[2] == -1.0f);
}

TEST_CASE("softmax / logSoftmax vs reference") {
  struct Shape { int64_t outer, dim, inner; };
  const Shape shapes[] = {{1, 1, 1}, {1, 10, 1}, {3, 17, 1}, {2, 5, 7}, {4, 3, 16}, {1, 1000, 1}, {2, 1, 5}};
  for (const Shape& s : shapes) {
    const size_t n = static_cast<size_t>(s.outer * s.dim * s.inner);
    for (float scale : {1.0f, 1000.0f}) {
      auto x = random_vec(n, static_cast<uint32_t>(n + s.dim), -scale, scale);
      for (int log = 0; log < 2; ++log) {
        std::vector<float> y(n);
        CHECK(softmax(x.data(), y.data(), s.outer, s.dim, s.inner, log != 0) == Status::kOk);
        for (int64_t o = 0; o < s.outer; ++o)
          for (int64_t i = 0; i < s.inner; ++i) {
            auto at = [&](int64_t d) { return static_cast<size_t>((o * s.dim + d) * s.inner + i); };
            double m = -INFINITY, sum = 0;
            for (int64_t d = 0; d < s.dim; ++d) m = std::max(m, static_cast<double>(x[at(d)]));
            for (int64_t d = 0; d < s.dim; ++d) sum += std::exp(x[at(d)] - m);
            for (int64_t d = 0; d < s.dim; ++d) {
              const double r = log ? x[at(d)] - m - std::log(sum) : std::exp(x[at(d)] - m) / sum;
              CHECK_NEAR(y[at(d)], r, 1e-30, 2e-7);
            }
          }
      }
    }
  }
}

// ---------------------------------------------------------------- elementwise

TEST_CASE("binary vs reference") {
  for (int64_t C : {1, 3, 17, 384}) {  // 384: rows of b along the last axis (inner 1), vector width and tails
    for (int64_t inner : {1, 5, 16, 49}) {
      const int64_t N = C == 384 && inner == 1 ? 300 : 2;
      const size_t n = static_cast<size_t>(N * C * inner);
      const auto a = random_vec(n, static_cast<uint32_t>(C * 100 + inner));
      const auto b = random_vec(n, static_cast<uint32_t>(C * 200 + inner), 0.5f, 2.0f);
      const auto bc = random_vec(static_cast<size_t>(C), static_cast<uint32_t>(C), -2.0f, -0.5f);
      for (int kind = 0; kind < 4; ++kind) {
        for (int mode = 0; mode < 2; ++mode) {
          std::vector<float> y(n);
          CHECK(binary(a.data(), mode ? bc.data() : b.data(), y.data(), N, C, inner, static_cast<BinaryKind>(kind),
                       static_cast<BroadcastMode>(mode)) == Status::kOk);
          for (size_t i = 0; i < n; ++i) {
            const float p = a[i], q = mode ? bc[(i / inner) % C] : b[i];
            // One IEEE operation: the float result is exact to the last bit.
            const float r = kind == 0 ? p + q : kind == 1 ? p - q : kind == 2 ? p * q : p / q;
            CHECK_NEAR(y[i], r, 0, 0);
          }
        }
      }
    }
  }
  const float a[3] = {1, -1, 0}, z[3] = {0, 0, 0};
  float y[3];
  CHECK(binary(a, z, y, 1, 1, 3, BinaryKind::kDiv, BroadcastMode::kSame) == Status::kOk);
  CHECK(y[0] == kInf && y[1] == -kInf && std::isnan(y[2]));
}

// ---------------------------------------------------------------- losses

TEST_CASE("crossEntropy / mseLoss vs reference") {
  for (int64_t N : {1, 3, 32}) {
    for (int64_t K : {1, 2, 10, 17}) {
      for (float scale : {1.0f, 500.0f}) {
        const auto logits = random_vec(static_cast<size_t>(N * K), static_cast<uint32_t>(N * K), -scale, scale);
        std::vector<int32_t> t(static_cast<size_t>(N));
        for (int64_t n = 0; n < N; ++n) t[n] = static_cast<int32_t>((n * 7 + 3) % K);
        double loss = 0;
        CHECK(cross_entropy(logits.data(), t.data(), N, K, &loss, nullptr) == Status::kOk);
        double ref = 0;
        for (int64_t n = 0; n < N; ++n) {
          double m = -INFINITY, s = 0;
          for (int64_t k = 0; k < K; ++k) m = std::max(m, static_cast<double>(logits[n * K + k]));
          for (int64_t k = 0; k < K; ++k) s += std::exp(logits[n * K + k] - m);
          ref += std::log(s) + m - logits[n * K + t[n]];
        }
        CHECK_NEAR(loss, ref / N, 1e-12, 1e-12);
      }
    }
  }
  const float l[4] = {0, 0, 0, 0};
  const int32_t bad[2] = {1, 2};
  double loss = 0;
  int64_t idx = -1;
  CHECK(cross_entropy(l, bad, 2, 2, &loss, &idx) == Status::kInvalidArgument);
  CHECK(idx == 1);
  const int32_t neg[2] = {-1, 0};
  CHECK(cross_entropy(l, neg, 2, 2, &loss, &idx) == Status::kInvalidArgument);
  CHECK(idx == 0);

  for (int64_t n : {1, 7, 1001}) {
    const auto a = random_vec(static_cast<size_t>(n), 5), b = random_vec(static_cast<size_t>(n), 6);
    double mse = 0, ref = 0;
    CHECK(mse_loss(a.data(), b.data(), n, &mse) == Status::kOk);
    for (int64_t i = 0; i < n; ++i) ref += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    CHECK_NEAR(mse, ref / n, 1e-15, 1e-12);
  }
}

// ---------------------------------------------------------------- thread-count independence

TEST_CASE("reductions do not depend on the thread count") {
  const int saved = num_threads();
  const int64_t N = 4, C = 6, HW = 3000;
  const auto x = random_vec(static_cast<size_t>(N * C * HW), 99, -3, 3);
  std::vector<float> m1(C), v1(C), m2(C), v2(C), s1(x.size()), s2(x.size()), l1(x.size()), l2(x.size());
  set_num_threads(1);
  CHECK(channel_stats(x.data(), N, C, HW, m1.data(), v1.data()) == Status::kOk);
  CHECK(softmax(x.data(), s1.data(), N, C, HW, false) == Status::kOk);
  CHECK(layer_norm(x.data(), l1.data(), N * C, HW, nullptr, nullptr, 1e-5f) == Status::kOk);
  set_num_threads(2);
  CHECK(channel_stats(x.data(), N, C, HW, m2.data(), v2.data()) == Status::kOk);
  CHECK(softmax(x.data(), s2.data(), N, C, HW, false) == Status::kOk);
  CHECK(layer_norm(x.data(), l2.data(), N * C, HW, nullptr, nullptr, 1e-5f) == Status::kOk);
  set_num_threads(saved);
  CHECK(m1 == m2 && v1 == v2 && s1 == s2 && l1 == l2);
}
