// pool2d_backward and batch_norm2d_backward against naive double references (the semantics of
// lib/backend/js/pool2d-backward.ts and norm-backward.ts), on shapes with tails, every pooling
// option, ties and NaN. Runs once per ISA and per thread count (test_main.cc).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/norm/norm.h"
#include "kernels/pool/pool2d.h"
#include "test/harness.h"

using namespace simdcnn;

namespace {

std::vector<float> rand_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Taps of one output position along an axis, clipped to [0, size): [lo, hi).
void taps(int64_t start, int64_t d, int64_t size, int64_t k, int64_t* lo, int64_t* hi) {
  *lo = k;
  *hi = 0;
  for (int64_t t = 0; t < k; ++t) {
    const int64_t i = start + t * d;
    if (i >= 0 && i < size) {
      *lo = std::min(*lo, t);
      *hi = std::max(*hi, t + 1);
    }
  }
  if (*hi < *lo) *hi = *lo;
}

std::vector<double> ref_pool_backward(const std::vector<float>& x, const std::vector<float>& dy, const Pool2dParams& p,
                                      int64_t OH, int64_t OW) {
  std::vector<double> dx(x.size(), 0.0);
  for (int64_t nc = 0; nc < p.N * p.C; ++nc) {
    const float* xp = x.data() + nc * p.H * p.W;
    double* dp = dx.data() + nc * p.H * p.W;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const double g = dy[static_cast<size_t>((nc * OH + oh) * OW + ow)];
        const int64_t hs = oh * p.stride_h - p.pad_h, ws = ow * p.stride_w - p.pad_w;
        int64_t kh0, kh1, kw0, kw1;
        taps(hs, p.dilation_h, p.H, p.kH, &kh0, &kh1);
        taps(ws, p.dilation_w, p.W, p.kW, &kw0, &kw1);
        if (p.mode == PoolMode::kAvg) {
          int64_t rc0, rc1, cc0, cc1;
          if (p.count_include_pad) {
            taps(oh * p.stride_h, 1, p.H + 2 * p.pad_h, p.kH, &rc0, &rc1);
            taps(ow * p.stride_w, 1, p.W + 2 * p.pad_w, p.kW, &cc0, &cc1);
          } else {
            rc0 = kh0, rc1 = kh1, cc0 = kw0, cc1 = kw1;
          }
          const double share = g / static_cast<double>((rc1 - rc0) * (cc1 - cc0));
          for (int64_t kh = kh0; kh < kh1; ++kh)
            for (int64_t kw = kw0; kw < kw1; ++kw) dp[(hs + kh) * p.W + ws + kw] += share;
        } else {
          const double sign = p.mode == PoolMode::kMin ? -1.0 : 1.0;
          double best = -INFINITY;
          int64_t arg = -1;
          for (int64_t kh = kh0; kh < kh1; ++kh)
            for (int64_t kw = kw0; kw < kw1; ++kw) {
              const int64_t i = (hs + kh * p.dilation_h) * p.W + ws + kw * p.dilation_w;
              const double v = sign * xp[i];
              if (v > best || std::isnan(v) || arg < 0) {
                best = v;
                arg = i;
              }
            }
          if (arg >= 0) dp[arg] += g;
        }
      }
  }
  return dx;
}

// Runs the kernel on a dx prefilled with garbage (it must be overwritten) and compares.
void check_pool_backward(const std::vector<float>& x, const Pool2dParams& p, uint32_t seed) {
  int64_t OH = 0, OW = 0;
  CHECK(pool2d_check(p, &OH, &OW) == PoolGeomError::kNone);
  const auto dy = rand_vec(static_cast<size_t>(p.N * p.C * OH * OW), seed);
  std::vector<float> dx(x.size(), 777.0f);
  CHECK(pool2d_backward(x.data(), dy.data(), dx.data(), p) == Status::kOk);
  const auto want = ref_pool_backward(x, dy, p, OH, OW);
  int bad = 0;
  for (size_t i = 0; i < dx.size(); ++i)
    if (!test::near(dx[i], want[i], 1e-6, 1e-5) && bad++ < 3) CHECK_NEAR(dx[i], want[i], 1e-6, 1e-5);
  if (bad) {
    std::fprintf(stderr, "    mode %d N%lld C%lld H%lld W%lld k%lldx%lld s%lldx%lld p%lldx%lld d%lldx%lld ceil %d cip %d\n",
                 static_cast<int>(p.mode), (long long)p.N, (long long)p.C, (long long)p.H, (long long)p.W,
                 (long long)p.kH, (long long)p.kW, (long long)p.stride_h, (long long)p.stride_w, (long long)p.pad_h,
                 (long long)p.pad_w, (long long)p.dilation_h, (long long)p.dilation_w, p.ceil_mode,
                 p.count_include_pad);
  }
}

}  // namespace

TEST_CASE("pool2dBackward vs reference: every option") {
  struct G {
    int64_t k, s, pad, d;
  };
  const G geoms[] = {{1, 1, 0, 1}, {2, 2, 0, 1}, {3, 1, 1, 1}, {3, 2, 1, 1}, {2, 1, 1, 1}, {3, 3, 0, 1},
                     {3, 2, 1, 2}, {2, 3, 1, 3}, {5, 2, 2, 1}, {4, 1, 2, 2}};
  const int64_t sizes[][2] = {{1, 1}, {5, 7}, {9, 17}, {13, 40}, {6, 33}};
  uint32_t seed = 1;
  for (const auto& g : geoms)
    for (const auto& hw : sizes)
      for (int mode = 0; mode < 3; ++mode)
        for (int ceil_mode = 0; ceil_mode < 2; ++ceil_mode)
          for (int cip = 0; cip < 2; ++cip) {
            if (mode == 1 && g.d != 1) continue;
            if (mode != 1 && cip == 0) continue;
            Pool2dParams p;
            p.N = 2;
            p.C = 3;
            p.H = hw[0];
            p.W = hw[1];
            // Rectangular kernels: the two axes take different geometries.
            p.kH = g.k;
            p.kW = std::max<int64_t>(1, g.k - (hw[1] & 1));
            p.stride_h = g.s;
            p.stride_w = g.s + (hw[0] & 1);
            p.pad_h = std::min(g.pad, p.kH / 2);
            p.pad_w = std::min(g.pad, p.kW / 2);
            p.dilation_h = g.d;
            p.dilation_w = mode == 1 ? 1 : g.d;
            p.ceil_mode = ceil_mode != 0;
            p.mode = static_cast<PoolMode>(mode);
            p.count_include_pad = cip != 0;
            if (pool2d_check(p, nullptr, nullptr) != PoolGeomError::kNone) continue;
            const auto x = rand_vec(static_cast<size_t>(p.N * p.C * p.H * p.W), ++seed);
            check_pool_backward(x, p, ++seed);
          }
}

TEST_CASE("pool2dBackward 2x2 stride 2 (the tiling fast path): ties, NaN, odd sizes, ceil_mode") {
  const int64_t sizes[][2] = {{2, 2}, {4, 6}, {5, 7}, {28, 28}, {10, 33}, {3, 2}};
  std::mt19937 rng(11);
  for (const auto& hw : sizes)
    for (int mode : {0, 2})
      for (int ceil_mode = 0; ceil_mode < 2; ++ceil_mode)
        for (int ties = 0; ties < 2; ++ties) {
          Pool2dParams p;
          p.N = 2;
          p.C = 3;
          p.H = hw[0];
          p.W = hw[1];
          p.kH = p.kW = 2;
          p.stride_h = p.stride_w = 2;
          p.mode = static_cast<PoolMode>(mode);
          p.ceil_mode = ceil_mode != 0;
          if (pool2d_check(p, nullptr, nullptr) != PoolGeomError::kNone) continue;
          auto x = rand_vec(static_cast<size_t>(p.N * p.C * p.H * p.W), static_cast<uint32_t>(rng()));
          if (ties) {
            // Few distinct values (ReLU outputs: many zeros), NaN and infinities.
            for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 3)) - 1.0f;
            x[1] = NAN;
            if (x.size() > 9) x[9] = NAN, x[8] = INFINITY, x[7] = -INFINITY;
          }
          check_pool_backward(x, p, static_cast<uint32_t>(rng()));
        }
}

TEST_CASE("pool2dBackward ties, NaN and infinities go to the forward's pick") {
  Pool2dParams p;
  p.N = 1;
  p.C = 2;
  p.H = 7;
  p.W = 37;  // two full AVX-512 vectors of interior columns plus a tail
  p.kH = p.kW = 3;
  p.stride_h = 1;
  p.stride_w = 1;
  p.pad_h = p.pad_w = 1;
  std::mt19937 rng(5);
  std::vector<float> x(static_cast<size_t>(p.N * p.C * p.H * p.W));
  // Few distinct values: many ties inside every window.
  for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 3)) - 1.0f;
  x[10] = NAN;
  x[11] = NAN;
  x[50] = -INFINITY;
  x[90] = INFINITY;
  for (int i = 120; i < 140; ++i) x[static_cast<size_t>(i)] = -INFINITY;  // all -inf windows
  x[300] = -0.0f;
  for (int mode : {0, 2}) {
    p.mode = static_cast<PoolMode>(mode);
    for (int64_t s : {1, 2}) {
      p.stride_h = p.stride_w = s;
      for (int ceil_mode = 0; ceil_mode < 2; ++ceil_mode) {
        p.ceil_mode = ceil_mode != 0;
        check_pool_backward(x, p, 17);
      }
    }
  }
  // All-constant planes: every window routes to its first real tap.
  std::vector<float> ones(x.size(), 1.0f);
  p.mode = PoolMode::kMax;
  p.stride_h = p.stride_w = 2;
  check_pool_backward(ones, p, 18);
}

TEST_CASE("pool2dBackward rejects bad geometry and null pointers") {
  Pool2dParams p;
  p.N = p.C = 1;
  p.H = p.W = 4;
  p.kH = p.kW = 2;
  float x[16] = {}, dy[16] = {}, dx[16] = {};
  CHECK(pool2d_backward(x, dy, dx, p) == Status::kOk);
  CHECK(pool2d_backward(nullptr, dy, dx, p) == Status::kInvalidArgument);
  CHECK(pool2d_backward(x, nullptr, dx, p) == Status::kInvalidArgument);
  CHECK(pool2d_backward(x, dy, nullptr, p) == Status::kInvalidArgument);
  p.pad_h = 2;
  CHECK(pool2d_backward(x, dy, dx, p) == Status::kInvalidArgument);
}

// ---------------------------------------------------------------- batch norm

namespace {

void ref_bn_backward(const std::vector<float>& x, const std::vector<float>& dy, int64_t N, int64_t C, int64_t HW,
                     const float* w, double eps, std::vector<double>* dx, std::vector<double>* dw,
                     std::vector<double>* db) {
  const double M = static_cast<double>(N * HW);
  dx->assign(x.size(), 0.0);
  dw->assign(static_cast<size_t>(C), 0.0);
  db->assign(static_cast<size_t>(C), 0.0);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, q = 0, sdy = 0, sdyx = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) s += x[(n * C + c) * HW + i];
    const double mean = s / M;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) q += (x[(n * C + c) * HW + i] - mean) * (x[(n * C + c) * HW + i] - mean);
    const double invstd = 1.0 / std::sqrt(q / M + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const size_t k = static_cast<size_t>((n * C + c) * HW + i);
        sdy += dy[k];
        sdyx += dy[k] * (x[k] - mean) * invstd;
      }
    (*db)[static_cast<size_t>(c)] = sdy;
    (*dw)[static_cast<size_t>(c)] = sdyx;
    const double wc = w ? w[c] : 1.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const size_t k = static_cast<size_t>((n * C + c) * HW + i);
        const double xhat = (x[k] - mean) * invstd;
        (*dx)[k] = wc * invstd / M * (M * dy[k] - sdy - xhat * sdyx);
      }
  }
}

}  // namespace

TEST_CASE("batchNorm2dBackward vs reference") {
  for (int64_t N : {1, 3}) {
    for (int64_t C : {1, 3, 17}) {
      for (int64_t HW : {1, 5, 33, 196}) {
        if (N * HW == 1) continue;  // one value per channel: the variance is 0, nothing to compare
        for (float offset : {0.0f, 100.0f}) {
          auto x = rand_vec(static_cast<size_t>(N * C * HW), static_cast<uint32_t>(N * 100 + C * 7 + HW), -3, 3);
          for (auto& v : x) v += offset;
          const auto dy = rand_vec(x.size(), static_cast<uint32_t>(C + HW + 1));
          const auto w = rand_vec(static_cast<size_t>(C), 13, 0.5f, 2.0f);
          for (int affine = 0; affine < 2; ++affine) {
            std::vector<double> rdx, rdw, rdb;
            ref_bn_backward(x, dy, N, C, HW, affine ? w.data() : nullptr, 1e-5f, &rdx, &rdw, &rdb);
            std::vector<float> dx(x.size(), 555.0f), dw(static_cast<size_t>(C), 555.0f), db(dw);
            CHECK(batch_norm2d_backward(x.data(), dy.data(), N, C, HW, affine ? w.data() : nullptr, 1e-5f, dx.data(),
                                        dw.data(), db.data()) == Status::kOk);
            // dx is a difference of terms of size |w| * invstd * |dy|; scale the tolerance by it.
            double mag = 0;
            for (size_t i = 0; i < rdx.size(); ++i) mag = std::max(mag, std::fabs(rdx[i]));
            for (size_t i = 0; i < dx.size(); ++i) CHECK_NEAR(dx[i], rdx[i], 2e-5 * (1 + mag), 1e-4);
            for (int64_t c = 0; c < C; ++c) {
              CHECK_NEAR(dw[c], rdw[c], 1e-5, 1e-5);
              CHECK_NEAR(db[c], rdb[c], 1e-5, 1e-5);
            }
            // Null outputs are skipped; the others are unchanged by that.
            std::vector<float> dw2(static_cast<size_t>(C), 9.0f);
            CHECK(batch_norm2d_backward(x.data(), dy.data(), N, C, HW, affine ? w.data() : nullptr, 1e-5f, nullptr,
                                        dw2.data(), nullptr) == Status::kOk);
            CHECK(dw2 == dw);
            std::vector<float> dx2(x.size(), 9.0f);
            CHECK(batch_norm2d_backward(x.data(), dy.data(), N, C, HW, affine ? w.data() : nullptr, 1e-5f, dx2.data(),
                                        nullptr, nullptr) == Status::kOk);
            CHECK(dx2 == dx);
          }
        }
      }
    }
  }
}

TEST_CASE("batchNorm2dBackward rejects bad arguments") {
  float x[4] = {1, 2, 3, 4}, dy[4] = {1, 1, 1, 1}, dx[4];
  CHECK(batch_norm2d_backward(x, dy, 1, 1, 4, nullptr, -1.0f, dx, nullptr, nullptr) == Status::kInvalidArgument);
  CHECK(batch_norm2d_backward(x, dy, 1, 1, 4, nullptr, NAN, dx, nullptr, nullptr) == Status::kInvalidArgument);
  CHECK(batch_norm2d_backward(x, dy, 0, 1, 4, nullptr, 1e-5f, dx, nullptr, nullptr) == Status::kInvalidArgument);
  CHECK(batch_norm2d_backward(nullptr, dy, 1, 1, 4, nullptr, 1e-5f, dx, nullptr, nullptr) == Status::kInvalidArgument);
  // dy constant: dx = 0 exactly up to rounding.
  CHECK(batch_norm2d_backward(x, dy, 1, 1, 4, nullptr, 1e-5f, dx, nullptr, nullptr) == Status::kOk);
  for (float v : dx) CHECK_NEAR(v, 0.0, 1e-6, 0);
}

TEST_CASE("backward kernels do not depend on the thread count") {
  const int saved = num_threads();
  const int64_t N = 4, C = 6, H = 30, W = 41;
  const auto x = rand_vec(static_cast<size_t>(N * C * H * W), 3, -3, 3);
  const auto dyb = rand_vec(x.size(), 4);
  Pool2dParams p;
  p.N = N;
  p.C = C;
  p.H = H;
  p.W = W;
  p.kH = p.kW = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_h = p.pad_w = 1;
  int64_t OH, OW;
  CHECK(pool2d_check(p, &OH, &OW) == PoolGeomError::kNone);
  const auto dyp = rand_vec(static_cast<size_t>(N * C * OH * OW), 5);
  std::vector<float> a1(x.size()), a2(x.size()), b1(x.size()), b2(x.size()), w1(C), w2(C), s1(C), s2(C);
  set_num_threads(1);
  CHECK(pool2d_backward(x.data(), dyp.data(), a1.data(), p) == Status::kOk);
  CHECK(batch_norm2d_backward(x.data(), dyb.data(), N, C, H * W, nullptr, 1e-5f, b1.data(), w1.data(), s1.data()) ==
        Status::kOk);
  set_num_threads(2);
  CHECK(pool2d_backward(x.data(), dyp.data(), a2.data(), p) == Status::kOk);
  CHECK(batch_norm2d_backward(x.data(), dyb.data(), N, C, H * W, nullptr, 1e-5f, b2.data(), w2.data(), s2.data()) ==
        Status::kOk);
  set_num_threads(saved);
  CHECK(a1 == a2 && b1 == b2 && w1 == w2 && s1 == s2);
}
