// conv2d_packed against a float64 direct convolution, on shapes that hit every tail of every ISA's
// tile (pixels and channels not multiples of MR/NR, K of one and of several K blocks), with and
// without bias, residual and ReLU; bitwise 1- vs 2-thread and batch invariance; bad arguments.
// Tolerance as the GEMM tests (gemm_test_util.h): |got - ref| <= 1e-6*|ref| + 4e-7*sqrt(K+2)*sum|terms|
// (float32 accumulation over K terms; the bias and residual count as terms).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu.h"
#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/conv2d_packed.h"
#include "test/gemm_test_util.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

struct Shape {
  size_t N, C, H, W, outC, kH, kW, sH, sW, pT, pL, pB, pR, dH, dW;
};

Conv2dParams params(const Shape& s, bool relu) {
  Conv2dParams p;
  p.N = s.N, p.C = s.C, p.H = s.H, p.W = s.W, p.outC = s.outC, p.kH = s.kH, p.kW = s.kW;
  p.strideH = s.sH, p.strideW = s.sW, p.padTop = s.pT, p.padLeft = s.pL, p.padBottom = s.pB, p.padRight = s.pR;
  p.dilationH = s.dH, p.dilationW = s.dW, p.groups = 1, p.act = relu ? 1 : 0;
  return p;
}

struct Data {
  Conv2dParams p;
  size_t OH = 0, OW = 0;
  std::vector<float> x, w, b, res, packed;
};

Data make(const Shape& s, bool relu, uint64_t seed) {
  Data d;
  d.p = params(s, relu);
  conv2d_output_size(d.p, &d.OH, &d.OW);
  Rng rng(seed);
  d.x.resize(s.N * s.C * s.H * s.W);
  d.w.resize(s.outC * s.C * s.kH * s.kW);
  d.b.resize(s.outC);
  d.res.resize(s.N * s.outC * d.OH * d.OW);
  rng.fill(d.x);
  rng.fill(d.w);
  rng.fill(d.b);
  rng.fill(d.res);
  d.packed.assign(conv2d_packed_size(d.p), std::numeric_limits<float>::quiet_NaN());
  return d;
}

// Runs the packed convolution into a fresh buffer with `threads` threads (0 = leave as is).
std::vector<float> run(Data& d, bool bias, bool residual, int threads = 0, Status* st = nullptr) {
  const int before = num_threads();
  if (threads) set_num_threads(threads);
  std::vector<float> out(d.p.N * d.p.outC * d.OH * d.OW, std::numeric_limits<float>::quiet_NaN());
  const Status s = conv2d_packed(d.p, d.x.data(), d.packed.data(), bias ? d.b.data() : nullptr,
                                 residual ? d.res.data() : nullptr, out.data());
  if (threads) set_num_threads(before);
  if (st) *st = s;
  CHECK(s == Status::kOk);
  return out;
}

// Elements outside tolerance vs the float64 direct convolution.
int compare(const Data& d, const std::vector<float>& out, bool bias, bool residual, const char* what) {
  const Conv2dParams& p = d.p;
  const size_t K = p.C * p.kH * p.kW;
  int bad = 0;
  for (size_t n = 0; n < p.N; ++n)
    for (size_t oc = 0; oc < p.outC; ++oc)
      for (size_t oh = 0; oh < d.OH; ++oh)
        for (size_t ow = 0; ow < d.OW; ++ow) {
          double ref = 0, abs_sum = 0;
          for (size_t c = 0; c < p.C; ++c)
            for (size_t kh = 0; kh < p.kH; ++kh)
              for (size_t kw = 0; kw < p.kW; ++kw) {
                const int64_t y = static_cast<int64_t>(oh * p.strideH + kh * p.dilationH) -
                                  static_cast<int64_t>(p.padTop);
                const int64_t xx = static_cast<int64_t>(ow * p.strideW + kw * p.dilationW) -
                                   static_cast<int64_t>(p.padLeft);
                if (y < 0 || xx < 0 || y >= static_cast<int64_t>(p.H) || xx >= static_cast<int64_t>(p.W)) continue;
                const double t = static_cast<double>(d.x[((n * p.C + c) * p.H + y) * p.W + xx]) *
                                 static_cast<double>(d.w[((oc * p.C + c) * p.kH + kh) * p.kW + kw]);
                ref += t;
                abs_sum += std::fabs(t);
              }
          const size_t o = ((n * p.outC + oc) * d.OH + oh) * d.OW + ow;
          if (bias) ref += d.b[oc], abs_sum += std::fabs(d.b[oc]);
          if (residual) ref += d.res[o], abs_sum += std::fabs(d.res[o]);
          if (p.act == 1 && ref < 0) ref = 0;
          if (!within(out[o], ref, abs_sum, K)) {
            if (bad < 3)
              std::fprintf(stderr, "  %s: out[n=%zu, c=%zu, %zu, %zu] = %.9g, ref %.9g\n", what, n, oc, oh, ow,
                           out[o], ref);
            ++bad;
          }
        }
  return bad;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

//                N  C   H   W  outC kH kW sH sW pT pL pB pR dH dW
const Shape kShapes[] = {
    {1, 13, 7, 9, 65, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},     // 1x1, no padding: reads x in place
    {2, 7, 9, 9, 17, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},      // 1x1 stride 2, N 2
    {1, 16, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // full 7x32 tiles only
    {1, 13, 15, 13, 70, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   // 3x3 stride 2, channel tail 6
    {1, 3, 17, 19, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},     // 5x5
    {1, 3, 32, 30, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},    // stem 7x7/2
    {1, 5, 7, 13, 6, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1},      // 1x3
    {1, 4, 20, 22, 9, 3, 3, 3, 3, 1, 0, 2, 1, 1, 1},     // stride 3, asymmetric padding
    {1, 6, 13, 13, 33, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},    // dilation 2
    {1, 3, 13, 17, 5, 3, 3, 1, 2, 3, 2, 3, 2, 3, 2},     // dilation [3,2], stride [1,2]
    {1, 65, 9, 9, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},      // valid, outC 1, K 585 (several K blocks)
    {3, 1, 11, 11, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // C 1, N 3
    {1, 64, 9, 9, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // K 576, outC 130 (64, 64, 2)
    {1, 2, 5, 5, 3, 3, 3, 1, 1, 4, 4, 4, 4, 1, 1},       // padding beyond the kernel
    {2, 3, 1, 1, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},      // 1x1 image
    {1, 7, 1, 31, 49, 1, 3, 1, 1, 0, 0, 0, 0, 1, 1},     // height 1
    {1, 128, 7, 7, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // K 1152 (nine blocks on AVX-512), 7x7 map
    {1, 8, 40, 41, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // several pixel blocks, row-crossing tiles
    {1, 4, 8, 8, 16, 4, 4, 1, 1, 1, 1, 2, 2, 1, 1},      // even kernel, 'same' padding
};

TEST_CASE("conv2d_packed: shapes x {bias, residual, relu} vs float64 reference") {
  uint64_t seed = 100;
  for (size_t si = 0; si < sizeof(kShapes) / sizeof(kShapes[0]); ++si) {
    const Shape& s = kShapes[si];
    for (int variant = 0; variant < 2; ++variant) {
      const int combo = static_cast<int>((si * 2 + variant) % 8);  // rotates through all 8 combinations
      const bool bias = combo & 1, residual = combo & 2, relu = combo & 4;
      Data d = make(s, relu, ++seed);
      CHECK(d.packed.size() > 16);
      CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
      const std::vector<float> out = run(d, bias, residual);
      char what[160];
      std::snprintf(what, sizeof(what), "shape %zu (N%zu C%zu %zux%zu -> %zu, k%zux%zu) bias %d res %d relu %d", si,
                    s.N, s.C, s.H, s.W, s.outC, s.kH, s.kW, bias, residual, relu);
      const int bad = compare(d, out, bias, residual, what);
      if (bad) std::fprintf(stderr, "  %s: %d bad elements\n", what, bad);
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("conv2d_packed: the row kernels (few channels, stride 1 along W) give the tiles' bits") {
  //                N  C   H   W  outC kH kW sH sW pT pL pB pR dH dW
  const Shape shapes[] = {
      {1, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},     // LeNet-5's first layer
      {2, 6, 14, 14, 8, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1},     // no padding: reads x in place, outC 8
      {1, 3, 40, 37, 1, 3, 3, 2, 1, 1, 0, 1, 2, 1, 1},     // stride 2 along H, one channel, 37-pixel rows
      {1, 5, 9, 70, 3, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2},      // dilation 2, rows of 70 (three vector pairs)
      {3, 65, 6, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      // K 585 in one block, 5-pixel rows
      {1, 2, 300, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},     // many row tasks of 3 pixels
  };
  uint64_t seed = 400;
  for (const Shape& s : shapes) {
    for (int combo = 0; combo < 8; ++combo) {
      const bool bias = combo & 1, residual = combo & 2, relu = combo & 4;
      Data d = make(s, relu, ++seed);
      CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
      std::vector<float> tiles(d.p.N * d.p.outC * d.OH * d.OW, std::nanf("")), rows = tiles;
      const float* b = bias ? d.b.data() : nullptr;
      const float* r = residual ? d.res.data() : nullptr;
      CHECK(conv2d_packed_path(d.p, d.x.data(), d.packed.data(), b, r, tiles.data(), ConvPackedPath::kTiles) ==
            Status::kOk);
      CHECK(conv2d_packed_path(d.p, d.x.data(), d.packed.data(), b, r, rows.data(), ConvPackedPath::kRows) ==
            Status::kOk);
      CHECK(same_bits(tiles, rows));
      CHECK(compare(d, rows, bias, residual, "rows") == 0);
      // The default path takes the rows here, and 1 and 2 threads agree.
      CHECK(same_bits(run(d, bias, residual, 1), rows) && same_bits(run(d, bias, residual, 2), rows));
    }
  }
  // Not applicable: more channels than a row kernel holds, or stride 2 along W.
  Data d = make({1, 3, 9, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, false, 1);
  std::vector<float> out(9 * 81);
  CHECK(conv2d_packed_path(d.p, d.x.data(), d.packed.data(), nullptr, nullptr, out.data(), ConvPackedPath::kRows) ==
        Status::kInvalidArgument);
}

TEST_CASE("conv2d_packed: 1 and 2 threads give the same bits") {
  const Shape shapes[] = {
      {1, 32, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // splits pixel blocks
      {1, 64, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // splits channel panels, several K blocks
      {4, 16, 13, 11, 37, 3, 3, 2, 1, 1, 1, 0, 1, 1, 1},   // splits images
  };
  uint64_t seed = 500;
  for (const Shape& s : shapes) {
    Data d = make(s, true, ++seed);
    CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
    const std::vector<float> one = run(d, true, true, 1);
    const std::vector<float> two = run(d, true, true, 2);
    CHECK(same_bits(one, two));
    CHECK(compare(d, two, true, true, "threads") == 0);
  }
}

TEST_CASE("conv2d_packed: image i's output does not depend on N") {
  const Shape batch = {5, 9, 12, 14, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  Data d = make(batch, true, 900);
  CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
  const std::vector<float> all = run(d, true, true);
  Shape one = batch;
  one.N = 1;
  const size_t in_img = batch.C * batch.H * batch.W, out_img = all.size() / batch.N;
  for (size_t n = 0; n < batch.N; ++n) {
    Data e = make(one, true, 901);
    e.w = d.w;
    e.b = d.b;
    e.x.assign(d.x.begin() + n * in_img, d.x.begin() + (n + 1) * in_img);
    e.res.assign(d.res.begin() + n * out_img, d.res.begin() + (n + 1) * out_img);
    CHECK(conv2d_pack_weights(e.p, e.w.data(), e.packed.data()) == Status::kOk);
    const std::vector<float> single = run(e, true, true);
    CHECK(std::memcmp(single.data(), all.data() + n * out_img, out_img * sizeof(float)) == 0);
  }
}

TEST_CASE("conv2d_packed: NaN propagates through the ReLU") {
  const Shape s = {1, 3, 9, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  Data d = make(s, true, 77);
  d.x[4 * 9 + 4] = std::numeric_limits<float>::quiet_NaN();  // channel 0, centre
  CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
  const std::vector<float> out = run(d, true, false);
  for (size_t oc = 0; oc < s.outC; ++oc)
    for (size_t y = 0; y < 9; ++y)
      for (size_t x = 0; x < 9; ++x) {
        const bool touches = y >= 3 && y <= 5 && x >= 3 && x <= 5;
        CHECK(std::isnan(out[(oc * 9 + y) * 9 + x]) == touches);
      }
}

TEST_CASE("conv2d_packed: bad arguments are rejected") {
  const Shape s = {1, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  Data d = make(s, false, 3);
  CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
  std::vector<float> out(d.p.outC * d.OH * d.OW);

  Conv2dParams g = d.p;  // groups 2
  g.groups = 2;
  CHECK(conv2d_packed_size(g) == 0);
  CHECK(conv2d_pack_weights(g, d.w.data(), d.packed.data()) == Status::kInvalidArgument);
  CHECK(conv2d_packed(g, d.x.data(), d.packed.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);

  // Same packed size, other geometry: C and kW swapped (K = 36 either way).
  Conv2dParams q = d.p;
  q.C = 3;
  q.kW = 4;
  q.padRight = 2;
  CHECK(conv2d_packed_size(q) == d.packed.size());
  CHECK(conv2d_packed(q, d.x.data(), d.packed.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);

  Conv2dParams z = d.p;  // empty output
  z.padTop = z.padBottom = z.padLeft = z.padRight = 0;
  z.H = 2;
  CHECK(conv2d_packed_size(z) == 0);
  CHECK(conv2d_packed(d.p, nullptr, d.packed.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);

  // Weights packed on another ISA: every other supported ISA has a different header.
  const Isa here = active_isa();
  for (Isa other : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (other == here || !isa_supported(other)) continue;
    set_active_isa(other);
    std::vector<float> foreign(conv2d_packed_size(d.p));
    CHECK(conv2d_pack_weights(d.p, d.w.data(), foreign.data()) == Status::kOk);
    set_active_isa(here);
    if (foreign.size() == d.packed.size())
      CHECK(conv2d_packed(d.p, d.x.data(), foreign.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  }
  CHECK(conv2d_packed(d.p, d.x.data(), d.packed.data(), nullptr, nullptr, out.data()) == Status::kOk);
}

}  // namespace
}  // namespace simdcnn
