// conv2d_packed against a float64 direct convolution, on shapes that hit every tail of every ISA's
// tile (pixels and channels not multiples of MR/NR, K of one and of several K blocks), with and
// without bias, residual and ReLU; grouped layers (Mg, Cg 1..40); bitwise 1- vs 2-thread and batch
// invariance; bad arguments.
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
#include "kernels/conv/conv2d_packed_ukernel.h"
#include "test/gemm_test_util.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

struct Shape {
  size_t N, C, H, W, outC, kH, kW, sH, sW, pT, pL, pB, pR, dH, dW;
};

Conv2dParams params(const Shape& s, bool relu, size_t groups = 1) {
  Conv2dParams p;
  p.N = s.N, p.C = s.C, p.H = s.H, p.W = s.W, p.outC = s.outC, p.kH = s.kH, p.kW = s.kW;
  p.strideH = s.sH, p.strideW = s.sW, p.padTop = s.pT, p.padLeft = s.pL, p.padBottom = s.pB, p.padRight = s.pR;
  p.dilationH = s.dH, p.dilationW = s.dW, p.groups = groups, p.act = relu ? 1 : 0;
  return p;
}

struct Data {
  Conv2dParams p;
  size_t OH = 0, OW = 0;
  std::vector<float> x, w, b, res, packed;
};

// s.C and s.outC are the layer's totals; the weights are [outC, C/groups, kH, kW].
Data make(const Shape& s, bool relu, uint64_t seed, size_t groups = 1) {
  Data d;
  d.p = params(s, relu, groups);
  conv2d_output_size(d.p, &d.OH, &d.OW);
  Rng rng(seed);
  d.x.resize(s.N * s.C * s.H * s.W);
  d.w.resize(s.outC * (s.C / groups) * s.kH * s.kW);
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
  const size_t Cg = p.C / p.groups, Mg = p.outC / p.groups;
  const size_t K = Cg * p.kH * p.kW;
  int bad = 0;
  for (size_t n = 0; n < p.N; ++n)
    for (size_t oc = 0; oc < p.outC; ++oc)
      for (size_t oh = 0; oh < d.OH; ++oh)
        for (size_t ow = 0; ow < d.OW; ++ow) {
          double ref = 0, abs_sum = 0;
          const size_t c_in0 = oc / Mg * Cg;  // the group's first input channel
          for (size_t c = 0; c < Cg; ++c)
            for (size_t kh = 0; kh < p.kH; ++kh)
              for (size_t kw = 0; kw < p.kW; ++kw) {
                const int64_t y = static_cast<int64_t>(oh * p.strideH + kh * p.dilationH) -
                                  static_cast<int64_t>(p.padTop);
                const int64_t xx = static_cast<int64_t>(ow * p.strideW + kw * p.dilationW) -
                                   static_cast<int64_t>(p.padLeft);
                if (y < 0 || xx < 0 || y >= static_cast<int64_t>(p.H) || xx >= static_cast<int64_t>(p.W)) continue;
                const double t = static_cast<double>(d.x[((n * p.C + c_in0 + c) * p.H + y) * p.W + xx]) *
                                 static_cast<double>(d.w[((oc * Cg + c) * p.kH + kh) * p.kW + kw]);
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

TEST_CASE("conv2d_packed: the row kernels (per row and wide, any stride) give the tiles' bits") {
  //                N  C   H   W  outC kH kW sH sW pT pL pB pR dH dW
  const Shape shapes[] = {
      {1, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},     // LeNet-5's first layer
      {2, 6, 14, 14, 8, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1},     // no padding: reads x in place, outC 8
      {1, 3, 40, 37, 1, 3, 3, 2, 1, 1, 0, 1, 2, 1, 1},     // stride 2 along H, one channel, 37-pixel rows
      {1, 5, 9, 70, 3, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2},      // dilation 2, rows of 70 (three vector pairs)
      {3, 65, 6, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      // K 585 in one block, 5-pixel rows
      {1, 2, 300, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},     // many row tasks of 3 pixels
      {1, 4, 11, 12, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // outC 9: chunks of 8 + 1
      {1, 3, 8, 20, 37, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1},     // outC 37: several panels on every ISA
      {2, 5, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // 14-pixel rows: one wide line per task
      {1, 7, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},       // 7x7: wide
      {1, 4, 23, 29, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},     // stride 2: phase planes, 15-pixel rows
      {1, 3, 17, 16, 6, 5, 3, 3, 2, 2, 0, 1, 2, 2, 1},     // stride [3,2], dilation [2,1], asymmetric padding
      {1, 2, 11, 70, 3, 3, 3, 1, 2, 0, 1, 0, 1, 1, 3},     // stride 2 along W only, dilation 3 along W
      {1, 6, 9, 9, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1},       // 1x1 stride 2, no padding
      {1, 3, 70, 40, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // several row tasks per image
      {1, 2, 150, 30, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    // several wide tasks, stride 2
      {1, 600, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // slab-limited tasks of 2 rows
      {1, 2, 5, 5, 3, 3, 3, 1000, 1000, 1, 1, 1, 1, 1, 1}, // stride 1000: 3 phases per axis, not 1000
      {1, 1, 3, 3, 2, 1, 1, 50, 40, 60, 45, 60, 45, 1, 1}, // strides past the padding: mostly zeros
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

struct GroupedShape {
  Shape s;  // C and outC: the layer's totals
  size_t groups;
};

//                        N  C    H   W  outC kH kW sH sW pT pL pB pR dH dW  groups
const GroupedShape kGroupedShapes[] = {
    {{1, 48, 14, 14, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 3},    // RegNet: Cg = Mg = 16, stride 1
    {{1, 32, 15, 16, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, 2},    // Cg = Mg = 16, stride 2, odd height
    {{1, 32, 12, 13, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 8},    // ResNeXt stage 1: Cg = Mg = 4
    {{2, 64, 11, 11, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, 16},   // Cg = Mg = 4, stride 2, N 2
    {{1, 24, 13, 11, 24, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2}, 3},    // Cg = Mg = 8, dilation 2
    {{1, 5, 9, 10, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 5},       // Cg = Mg = 1 (depthwise as groups)
    {{1, 4, 9, 8, 12, 3, 3, 2, 1, 1, 0, 1, 2, 1, 1}, 4},       // Cg 1, Mg 3 (channel multiplier), stride [2,1]
    {{1, 80, 7, 7, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 2},      // Cg = Mg = 40, K 360, 7x7 map
    {{1, 6, 10, 9, 74, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 2},      // Cg 3, Mg 37: several panels, channel tails
    {{1, 99, 8, 12, 6, 3, 3, 1, 2, 0, 1, 2, 0, 1, 1}, 3},      // Cg 33, Mg 2, stride [1,2], asymmetric padding
    {{3, 8, 9, 9, 96, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1}, 4},       // Cg 2, Mg 24, 5x5, N 3
    {{1, 12, 6, 17, 18, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1}, 6},     // 1x3, Cg 2, Mg 3
    {{1, 64, 9, 9, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1}, 4},      // 1x1 grouped, no padding: reads x in place
    {{1, 1024, 7, 7, 1024, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 32}, // ResNeXt stage 4: Cg = Mg = 32, K 288
};

TEST_CASE("conv2d_packed: grouped shapes x {bias, residual, relu} vs float64 reference") {
  uint64_t seed = 1000;
  for (size_t si = 0; si < sizeof(kGroupedShapes) / sizeof(kGroupedShapes[0]); ++si) {
    const Shape& s = kGroupedShapes[si].s;
    const size_t groups = kGroupedShapes[si].groups;
    for (int variant = 0; variant < 2; ++variant) {
      const int combo = static_cast<int>((si * 2 + variant) % 8);
      const bool bias = combo & 1, residual = combo & 2, relu = combo & 4;
      Data d = make(s, relu, ++seed, groups);
      CHECK(d.packed.size() > 16);
      CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
      const std::vector<float> out = run(d, bias, residual);
      char what[160];
      std::snprintf(what, sizeof(what), "grouped %zu (N%zu C%zu %zux%zu -> %zu, k%zux%zu, g%zu) bias %d res %d relu %d",
                    si, s.N, s.C, s.H, s.W, s.outC, s.kH, s.kW, groups, bias, residual, relu);
      const int bad = compare(d, out, bias, residual, what);
      if (bad) std::fprintf(stderr, "  %s: %d bad elements\n", what, bad);
      CHECK(bad == 0);
    }
  }
}

// Every Mg in 1..40 against every ISA's tail logic (with Cg running down 40..1): the reference, the
// row kernels against the tiles bitwise, and each group against a groups-1
// convolution of just that group's channels, bitwise (the groups' panels, bias and residual
// offsets).
TEST_CASE("conv2d_packed: grouped Mg 1..40, Cg 40..1: reference, rows = tiles, group = groups-1 conv") {
  uint64_t seed = 2000;
  for (size_t mg = 1; mg <= 40; ++mg) {
    const size_t cg = 41 - mg, groups = 2 + mg % 2;
    const size_t stride = mg % 3 == 0 ? 2 : 1;
    const Shape s = {1 + mg % 2, cg * groups, 7 + mg % 4, 9 - mg % 3, mg * groups, 3, 3, stride, stride, 1, 1, 1, 1,
                     1, 1};
    const bool bias = mg & 1, residual = mg & 2, relu = mg & 4;
    Data d = make(s, relu, ++seed, groups);
    CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
    const std::vector<float> out = run(d, bias, residual);
    char what[160];
    std::snprintf(what, sizeof(what), "Mg %zu Cg %zu groups %zu stride %zu", mg, cg, groups, stride);
    const int bad = compare(d, out, bias, residual, what);
    if (bad) std::fprintf(stderr, "  %s: %d bad elements\n", what, bad);
    CHECK(bad == 0);

    const float* b = bias ? d.b.data() : nullptr;
    const float* r = residual ? d.res.data() : nullptr;
    std::vector<float> tiles(out.size(), std::nanf("")), rows = tiles;
    CHECK(conv2d_packed_path(d.p, d.x.data(), d.packed.data(), b, r, tiles.data(), ConvPackedPath::kTiles) ==
          Status::kOk);
    CHECK(same_bits(tiles, out));
    CHECK(conv2d_packed_path(d.p, d.x.data(), d.packed.data(), b, r, rows.data(), ConvPackedPath::kRows) ==
          Status::kOk);
    CHECK(same_bits(tiles, rows));

    // Group g of image n alone, as a groups-1 layer.
    const size_t HW = s.H * s.W, OHW = d.OH * d.OW, K = cg * 9;
    Shape one = s;
    one.N = 1, one.C = cg, one.outC = mg;
    for (size_t n = 0; n < s.N; ++n)
      for (size_t g = 0; g < groups; ++g) {
        Data e = make(one, relu, 1);
        const size_t u = n * groups + g;
        e.x.assign(d.x.begin() + u * cg * HW, d.x.begin() + (u + 1) * cg * HW);
        e.w.assign(d.w.begin() + g * mg * K, d.w.begin() + (g + 1) * mg * K);
        e.b.assign(d.b.begin() + g * mg, d.b.begin() + (g + 1) * mg);
        e.res.assign(d.res.begin() + u * mg * OHW, d.res.begin() + (u + 1) * mg * OHW);
        CHECK(conv2d_pack_weights(e.p, e.w.data(), e.packed.data()) == Status::kOk);
        const std::vector<float> single = run(e, bias, residual);
        CHECK(std::memcmp(single.data(), out.data() + u * mg * OHW, mg * OHW * sizeof(float)) == 0);
      }
  }
}

TEST_CASE("conv2d_packed: grouped, 1 and 2 threads and batch 1 vs 8 give the same bits") {
  const GroupedShape shapes[] = {
      {{8, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 4},    // rows (Mg 16 on AVX-512 runs tiles)
      {{8, 128, 12, 12, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, 32},  // tiles, Mg 4
      {{8, 64, 10, 10, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 16},   // rows, Mg 4
  };
  uint64_t seed = 3000;
  for (const GroupedShape& gs : shapes) {
    Data d = make(gs.s, true, ++seed, gs.groups);
    CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
    const std::vector<float> one = run(d, true, true, 1);
    const std::vector<float> two = run(d, true, true, 2);
    CHECK(same_bits(one, two));
    CHECK(compare(d, two, true, true, "grouped threads") == 0);
    Shape single = gs.s;
    single.N = 1;
    const size_t in_img = gs.s.C * gs.s.H * gs.s.W, out_img = one.size() / gs.s.N;
    for (size_t n = 0; n < gs.s.N; n += 3) {
      Data e = make(single, true, 1, gs.groups);
      e.w = d.w;
      e.b = d.b;
      e.x.assign(d.x.begin() + n * in_img, d.x.begin() + (n + 1) * in_img);
      e.res.assign(d.res.begin() + n * out_img, d.res.begin() + (n + 1) * out_img);
      CHECK(conv2d_pack_weights(e.p, e.w.data(), e.packed.data()) == Status::kOk);
      CHECK(std::memcmp(run(e, true, true).data(), one.data() + n * out_img, out_img * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("conv2d_packed: the stride-2 even-element gather of every ISA, every length 0..40") {
  EvenGatherFn fn = gather_even_scalar;
#if SIMDCNN_X86
  if (active_isa() == Isa::kAvx2) fn = gather_even_avx2;
  if (active_isa() == Isa::kAvx512) fn = gather_even_avx512;
#endif
#if SIMDCNN_ARM64
  if (active_isa() == Isa::kNeon) fn = gather_even_neon;
#endif
  for (size_t n = 0; n <= 40; ++n) {
    // Exactly the 2n-1 floats the gather may read, so a full-width read past them is a heap overflow.
    std::vector<float> src(n ? 2 * n - 1 : 0);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
    std::vector<float> dst(n + 1, -1.0f);
    fn(dst.data(), src.data(), n);
    bool ok = dst[n] == -1.0f;
    for (size_t i = 0; i < n; ++i) ok = ok && dst[i] == src[2 * i];
    CHECK(ok);
  }
}

TEST_CASE("conv2d_packed: bad arguments are rejected") {
  const Shape s = {1, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  Data d = make(s, false, 3);
  CHECK(conv2d_pack_weights(d.p, d.w.data(), d.packed.data()) == Status::kOk);
  std::vector<float> out(d.p.outC * d.OH * d.OW);

  Conv2dParams g = d.p;  // groups 3 divides neither C 4 nor outC 8
  g.groups = 3;
  CHECK(conv2d_packed_size(g) == 0);
  CHECK(conv2d_pack_weights(g, d.w.data(), d.packed.data()) == Status::kInvalidArgument);
  CHECK(conv2d_packed(g, d.x.data(), d.packed.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  g.groups = 0;
  CHECK(conv2d_packed_size(g) == 0);
  CHECK(conv2d_packed(g, d.x.data(), d.packed.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  // Weights packed for groups 1 do not run a groups-2 layer (the header records the groups).
  g.groups = 2;
  CHECK(conv2d_packed_size(g) > 0);
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
