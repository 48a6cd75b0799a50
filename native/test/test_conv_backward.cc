// conv2d and linear gradients against naive double-precision references on the forward tests'
// geometry matrix, plus thread-count invariance. Tolerance as test_gemm_conv.cc:
// |got - ref| <= 1e-6*|ref| + 4e-7*sqrt(K)*sum|terms|, K the reduction length.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/conv2d_backward.h"
#include "kernels/gemm/linear_backward.h"
#include "test/harness.h"
#include "test/gemm_test_util.h"

namespace simdcnn {
namespace {

Conv2dParams make(size_t N, size_t C, size_t H, size_t W, size_t outC, size_t kH, size_t kW, size_t sH, size_t sW,
                  size_t pT, size_t pL, size_t pB, size_t pR, size_t dH, size_t dW, size_t groups) {
  Conv2dParams p;
  p.N = N, p.C = C, p.H = H, p.W = W, p.outC = outC, p.kH = kH, p.kW = kW, p.strideH = sH, p.strideW = sW;
  p.padTop = pT, p.padLeft = pL, p.padBottom = pB, p.padRight = pR, p.dilationH = dH, p.dilationW = dW;
  p.groups = groups;
  return p;
}

// Same matrix as the forward test (conv2d: geometry matrix), plus the LeNet-5 layers.
const Conv2dParams kCases[] = {
    make(1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    make(2, 5, 9, 8, 7, 3, 3, 2, 2, 0, 1, 2, 1, 1, 1, 1),    // stride 2, asymmetric padding
    make(1, 4, 11, 10, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1),  // dilation 2
    make(1, 6, 8, 9, 4, 3, 2, 1, 2, 1, 0, 0, 1, 1, 3, 2),    // groups 2, non-square, mixed
    make(2, 9, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3),    // groups 3
    make(1, 10, 5, 6, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1),   // 1x1 straight into GEMM
    make(2, 13, 7, 5, 11, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1),  // 1x1 stride 2
    make(1, 3, 6, 6, 5, 1, 1, 1, 1, 1, 0, 1, 2, 1, 1, 1),    // 1x1 padded
    make(1, 5, 9, 10, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5),   // depthwise
    make(2, 7, 12, 11, 7, 3, 3, 2, 2, 1, 0, 1, 2, 1, 1, 7),  // depthwise stride 2, asym pad
    make(1, 3, 8, 8, 6, 5, 3, 1, 1, 2, 1, 2, 1, 2, 1, 3),    // depthwise multiplier 2, dilation
    make(1, 17, 33, 35, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17),
    make(1, 2, 5, 33, 2, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 2),
    make(2, 4, 7, 40, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 4),
    make(1, 3, 6, 50, 3, 3, 5, 3, 3, 1, 2, 1, 2, 1, 1, 3),   // stride 3
    make(1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // kernel larger than input
    make(1, 1, 5, 5, 1, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1),    // single output
    make(3, 13, 10, 9, 11, 2, 5, 1, 3, 0, 2, 1, 2, 1, 1, 1),
    make(1, 32, 20, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // big enough to thread the GEMM
    make(1, 64, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // K = 576
    make(4, 8, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4),
    make(2, 5, 9, 7, 6, 3, 1, 1, 1, 0, 0, 0, 0, 2, 1, 1),    // unpadded, dilated rows
    make(1, 7, 5, 12, 9, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, 1),   // 1x7, horizontal padding only
    make(1, 3, 10, 10, 50, 4, 4, 1, 1, 0, 0, 3, 3, 1, 1, 1), // even kernel, bottom/right padding
    make(2, 5, 17, 19, 6, 3, 3, 3, 3, 2, 1, 0, 3, 2, 2, 1),  // stride 3, dilation 2, asymmetric
    make(1, 4, 9, 11, 5, 2, 2, 4, 3, 3, 0, 1, 4, 1, 1, 1),   // stride > kernel, padding > kernel
    make(1, 6, 23, 21, 10, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 2), // 7x7 s2, groups 2
    make(1, 3, 8, 40, 4, 1, 3, 1, 2, 0, 1, 0, 1, 1, 3, 1),   // 1x3, strides (1,2), dilation 3
    make(11, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1), // LeNet conv1, more images than chunks
    make(9, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1), // LeNet conv2
    make(3, 9, 6, 6, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3),   // grouped 1x1
    // The input gradient as a convolution (>= 16 channels per group, stride 1), the batch folded
    // into the GEMM (several images, < 64 output pixels), and both.
    make(3, 32, 5, 5, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    make(2, 24, 9, 8, 8, 3, 3, 1, 1, 2, 1, 0, 2, 2, 2, 1),   // dilation 2, asymmetric padding
    make(4, 32, 4, 6, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2),  // strided, grouped, small maps
    make(5, 20, 3, 3, 7, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1),   // 1x1 stride 2, small maps
    make(2, 16, 12, 12, 4, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1), // as a convolution, map above the batching bound
};

// Visits every (n, oc, oh, ow, c, kh, kw) term of the convolution that touches the input.
template <typename F>
void for_each_term(const Conv2dParams& p, size_t OH, size_t OW, F&& f) {
  const size_t Cg = p.C / p.groups, Mg = p.outC / p.groups;
  for (size_t n = 0; n < p.N; ++n)
    for (size_t oc = 0; oc < p.outC; ++oc)
      for (size_t oh = 0; oh < OH; ++oh)
        for (size_t ow = 0; ow < OW; ++ow)
          for (size_t c = 0; c < Cg; ++c)
            for (size_t kh = 0; kh < p.kH; ++kh)
              for (size_t kw = 0; kw < p.kW; ++kw) {
                const int64_t ih = static_cast<int64_t>(oh * p.strideH + kh * p.dilationH) - static_cast<int64_t>(p.padTop);
                const int64_t iw = static_cast<int64_t>(ow * p.strideW + kw * p.dilationW) - static_cast<int64_t>(p.padLeft);
                if (ih < 0 || iw < 0 || ih >= static_cast<int64_t>(p.H) || iw >= static_cast<int64_t>(p.W)) continue;
                const size_t xi = ((n * p.C + (oc / Mg) * Cg + c) * p.H + ih) * p.W + iw;
                const size_t wi = ((oc * Cg + c) * p.kH + kh) * p.kW + kw;
                const size_t yi = ((n * p.outC + oc) * OH + oh) * OW + ow;
                f(xi, wi, yi);
              }
}

int check_backward(const Conv2dParams& p, uint64_t seed) {
  size_t OH = 0, OW = 0;
  if (!conv2d_output_size(p, &OH, &OW)) return 1000;
  Rng rng(seed);
  const size_t xn = p.N * p.C * p.H * p.W, wn = p.outC * (p.C / p.groups) * p.kH * p.kW, yn = p.N * p.outC * OH * OW;
  std::vector<float> x(xn), w(wn), dy(yn);
  rng.fill(x);
  rng.fill(w);
  rng.fill(dy);
  // Sentinels past the end catch overruns; NaN in the outputs catches elements left unwritten.
  std::vector<float> dx(xn + 1, std::nanf("")), dw(wn + 1, std::nanf(""));
  dx.back() = 777.0f;
  dw.back() = 777.0f;
  if (conv2d_backward_input(p, dy.data(), w.data(), dx.data()) != Status::kOk) return 1000;
  if (conv2d_backward_weight(p, x.data(), dy.data(), dw.data()) != Status::kOk) return 1000;
  std::vector<double> rx(xn, 0.0), ax(xn, 0.0), rw(wn, 0.0), aw(wn, 0.0);
  std::vector<size_t> kx(xn, 0), kwt(wn, 0);
  for_each_term(p, OH, OW, [&](size_t xi, size_t wi, size_t yi) {
    const double gx = double(w[wi]) * dy[yi], gw = double(x[xi]) * dy[yi];
    rx[xi] += gx, ax[xi] += std::fabs(gx), ++kx[xi];
    rw[wi] += gw, aw[wi] += std::fabs(gw), ++kwt[wi];
  });
  int bad = 0;
  for (size_t i = 0; i < xn; ++i)
    if (!within(dx[i], rx[i], ax[i], kx[i])) {
      if (bad < 3)
        std::fprintf(stderr, "  dx N=%zu C=%zu H=%zu W=%zu outC=%zu k=%zux%zu g=%zu: [%zu] = %.9g, ref %.9g\n", p.N, p.C,
                     p.H, p.W, p.outC, p.kH, p.kW, p.groups, i, dx[i], rx[i]);
      ++bad;
    }
  for (size_t i = 0; i < wn; ++i)
    if (!within(dw[i], rw[i], aw[i], kwt[i])) {
      if (bad < 3)
        std::fprintf(stderr, "  dw N=%zu C=%zu H=%zu W=%zu outC=%zu k=%zux%zu g=%zu: [%zu] = %.9g, ref %.9g\n", p.N, p.C,
                     p.H, p.W, p.outC, p.kH, p.kW, p.groups, i, dw[i], rw[i]);
      ++bad;
    }
  if (dx.back() != 777.0f || dw.back() != 777.0f) ++bad;
  return bad;
}

TEST_CASE("conv2d backward: geometry matrix vs direct reference") {
  int bad = 0;
  uint64_t seed = 1500;
  for (const auto& p : kCases) bad += check_backward(p, seed++);
  CHECK(bad == 0);
}

TEST_CASE("conv2d backward: bitwise identical for 1 and 2 threads") {
  const Conv2dParams cases[] = {
      make(1, 32, 20, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // threaded GEMMs, parallel col2im
      make(3, 16, 9, 9, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2),    // small GEMMs spread over tasks
      make(13, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1),  // image chunks with partials
      make(5, 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8),    // depthwise
      make(6, 12, 7, 7, 18, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1),    // pointwise
  };
  const int saved = num_threads();
  for (const auto& p : cases) {
    size_t OH = 0, OW = 0;
    CHECK(conv2d_output_size(p, &OH, &OW));
    Rng rng(901);
    std::vector<float> x(p.N * p.C * p.H * p.W), w(p.outC * (p.C / p.groups) * p.kH * p.kW), dy(p.N * p.outC * OH * OW);
    rng.fill(x);
    rng.fill(w);
    rng.fill(dy);
    std::vector<float> dx1(x.size()), dx2(x.size()), dw1(w.size()), dw2(w.size());
    set_num_threads(1);
    CHECK(conv2d_backward_input(p, dy.data(), w.data(), dx1.data()) == Status::kOk);
    CHECK(conv2d_backward_weight(p, x.data(), dy.data(), dw1.data()) == Status::kOk);
    set_num_threads(2);
    CHECK(conv2d_backward_input(p, dy.data(), w.data(), dx2.data()) == Status::kOk);
    CHECK(conv2d_backward_weight(p, x.data(), dy.data(), dw2.data()) == Status::kOk);
    CHECK(std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(dw1.data(), dw2.data(), dw1.size() * sizeof(float)) == 0);
  }
  set_num_threads(saved);
}

TEST_CASE("conv2d backward: invalid geometry is rejected, act ignored") {
  float a[9] = {}, b[9] = {}, out[4] = {9, 9, 9, 9};
  Conv2dParams p = make(1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1);  // empty output
  CHECK(conv2d_backward_input(p, a, b, out) == Status::kInvalidArgument);
  CHECK(conv2d_backward_weight(p, a, b, out) == Status::kInvalidArgument);
  p = make(1, 3, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2);  // groups does not divide C
  CHECK(conv2d_backward_input(p, a, b, out) == Status::kInvalidArgument);
  CHECK(conv2d_backward_weight(p, a, b, out) == Status::kInvalidArgument);
  CHECK(out[0] == 9 && out[3] == 9);
  // 1x1 on 1x1: dx = w * dy, dw = x * dy; the forward's act must not matter.
  p = make(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1);
  p.act = 1;
  const float x = 3, w = -2, dy = 5;
  float dx = 0, dw = 0;
  CHECK(conv2d_backward_input(p, &dy, &w, &dx) == Status::kOk && dx == -10.0f);
  CHECK(conv2d_backward_weight(p, &x, &dy, &dw) == Status::kOk && dw == 15.0f);
}

TEST_CASE("linear backward vs reference, null outputs skipped") {
  int bad = 0;
  uint64_t seed = 1700;
  for (size_t N : {1, 3, 4, 5, 17, 64})
    for (size_t inF : {1, 9, 33, 130})
      for (size_t outF : {1, 3, 10, 49}) {
        Rng rng(seed++);
        std::vector<float> x(N * inF), w(outF * inF), dy(N * outF);
        rng.fill(x);
        rng.fill(w);
        rng.fill(dy);
        std::vector<float> dx(N * inF + 1, std::nanf("")), dw(outF * inF + 1, std::nanf("")), db(outF + 1, std::nanf(""));
        dx.back() = dw.back() = db.back() = 777.0f;
        CHECK(linear_backward(N, inF, outF, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data()) == Status::kOk);
        for (size_t n = 0; n < N; ++n)
          for (size_t i = 0; i < inF; ++i) {
            double r = 0, a = 0;
            for (size_t o = 0; o < outF; ++o) r += double(dy[n * outF + o]) * w[o * inF + i], a += std::fabs(double(dy[n * outF + o]) * w[o * inF + i]);
            if (!within(dx[n * inF + i], r, a, outF)) ++bad;
          }
        for (size_t o = 0; o < outF; ++o) {
          for (size_t i = 0; i < inF; ++i) {
            double r = 0, a = 0;
            for (size_t n = 0; n < N; ++n) r += double(dy[n * outF + o]) * x[n * inF + i], a += std::fabs(double(dy[n * outF + o]) * x[n * inF + i]);
            if (!within(dw[o * inF + i], r, a, N)) ++bad;
          }
          double r = 0;
          for (size_t n = 0; n < N; ++n) r += dy[n * outF + o];
          if (db[o] != static_cast<float>(r)) ++bad;
        }
        if (dx.back() != 777.0f || dw.back() != 777.0f || db.back() != 777.0f) ++bad;
      }
  CHECK(bad == 0);
  // Null outputs are skipped (left untouched).
  const float x[2] = {1, 2}, w[2] = {3, 4}, dy[1] = {5};
  float dx[2] = {9, 9}, db[1] = {9};
  CHECK(linear_backward(1, 2, 1, x, w, dy, dx, nullptr, nullptr) == Status::kOk);
  CHECK(dx[0] == 15 && dx[1] == 20);
  CHECK(linear_backward(1, 2, 1, x, w, dy, nullptr, nullptr, db) == Status::kOk && db[0] == 5);
}

}  // namespace
}  // namespace simdcnn
