// Winograd F(4x4,3x3) against a float64 direct convolution, the weight transform against G built
// from the interpolation points, and the invariances (batch, thread count, blocking).
//
// Tolerance: all 16 outputs of a tile come out of one transformed 6x6 input patch, so each inherits
// the rounding of the whole tile: |got - ref| <= 1e-5 * (S + |bias| + |residual|), S the largest
// sum |x*w| among the 16 positions of the element's tile. Measured max |err| / S over every case
// here, every ISA and C = 1..512: 8.5e-7 (the direct GEMM convolution: ~2e-7), and it falls with C
// (the error grows like sqrt(C), S like C; see "error report"). 1e-5 leaves ~10x headroom and still
// fails for any wrong coefficient, tile offset or padding (mutations checked: errors of order S).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/winograd.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

// Deterministic uniform [-1, 1) values.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 6364136223846793005ull + 1442695040888963407ull) {}
  float next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int64_t>(s >> 40) - (int64_t{1} << 23)) / static_cast<float>(1 << 23);
  }
  void fill(std::vector<float>& v) {
    for (float& x : v) x = next();
  }
};

struct WCase {
  size_t N, C, outC, H, W;
  size_t pt, pl, pb, pr;
  bool bias, residual, relu;
};

Conv2dParams params_of(const WCase& c) {
  Conv2dParams p;
  p.N = c.N;
  p.C = c.C;
  p.H = c.H;
  p.W = c.W;
  p.outC = c.outC;
  p.kH = p.kW = 3;
  p.padTop = c.pt;
  p.padLeft = c.pl;
  p.padBottom = c.pb;
  p.padRight = c.pr;
  p.act = c.relu ? 1 : 0;
  return p;
}

struct Data {
  Conv2dParams p;
  int m = 0;  // tile size of u
  size_t OH = 0, OW = 0;
  std::vector<float> x, w, u, b, res;
};

// m: the output tile size of the transformed weights (0: the layer's own choice).
Data make_data(const WCase& c, uint64_t seed, int m = 0) {
  Data d;
  d.p = params_of(c);
  conv2d_output_size(d.p, &d.OH, &d.OW);
  Rng rng(seed);
  d.x.resize(c.N * c.C * c.H * c.W);
  d.w.resize(c.outC * c.C * 9);
  d.m = m ? m : winograd_tile_size(d.p);
  d.u.resize(winograd_weights_size(d.p, d.m));
  rng.fill(d.x);
  rng.fill(d.w);
  if (c.bias) {
    d.b.resize(c.outC);
    rng.fill(d.b);
  }
  if (c.residual) {
    d.res.resize(c.N * c.outC * d.OH * d.OW);
    rng.fill(d.res);
  }
  CHECK(winograd_weights(d.p, d.w.data(), d.u.data(), d.m) == Status::kOk);
  CHECK(winograd_weights_tile(d.p, d.u.data()) == d.m);
  return d;
}

Status run(const Data& d, std::vector<float>* out, const WinogradTuning* t = nullptr) {
  out->assign(d.p.N * d.p.outC * d.OH * d.OW, std::nanf(""));
  const float* b = d.b.empty() ? nullptr : d.b.data();
  const float* r = d.res.empty() ? nullptr : d.res.data();
  if (t) return conv2d_winograd_tuned(d.p, d.x.data(), d.u.data(), b, r, out->data(), *t);
  return conv2d_winograd(d.p, d.x.data(), d.u.data(), b, r, out->data());
}

struct ErrStats {
  double max_over_s = 0;    // max |err| / S
  double max_abs = 0;       // max |err|
  double max_ref = 0;       // max |ref|
  int bad = 0;
};

// Compares out with a float64 direct convolution. A tile's outputs all come out of the same
// transformed input patch, so the rounding error of each scales with the largest term sum S among
// the positions of its tile (computed here on the m x m tile grid, zeros past the input), plus its
// own |bias| + |residual|: an output over an all-padding row still inherits the error of the real
// rows its tile shares.
ErrStats compare(const Data& d, const std::vector<float>& out, double rel_tol, const char* what) {
  const Conv2dParams& p = d.p;
  const size_t m = d.m ? static_cast<size_t>(d.m) : 4;
  const size_t TH = (d.OH + m - 1) / m, TW = (d.OW + m - 1) / m, EH = m * TH, EW = m * TW;
  std::vector<double> ref(EH * EW), sum(EH * EW), tile_s(TH * TW);
  ErrStats st;
  for (size_t n = 0; n < p.N; ++n)
    for (size_t oc = 0; oc < p.outC; ++oc) {
      std::fill(tile_s.begin(), tile_s.end(), 0.0);
      for (size_t oh = 0; oh < EH; ++oh)
        for (size_t ow = 0; ow < EW; ++ow) {
          double r = 0, s = 0;
          for (size_t c = 0; c < p.C; ++c)
            for (size_t kh = 0; kh < 3; ++kh) {
              const int64_t y = static_cast<int64_t>(oh + kh) - static_cast<int64_t>(p.padTop);
              if (y < 0 || y >= static_cast<int64_t>(p.H)) continue;
              for (size_t kw = 0; kw < 3; ++kw) {
                const int64_t x = static_cast<int64_t>(ow + kw) - static_cast<int64_t>(p.padLeft);
                if (x < 0 || x >= static_cast<int64_t>(p.W)) continue;
                const double t = static_cast<double>(d.x[((n * p.C + c) * p.H + y) * p.W + x]) *
                                 d.w[((oc * p.C + c) * 3 + kh) * 3 + kw];
                r += t;
                s += std::fabs(t);
              }
            }
          ref[oh * EW + ow] = r;
          double& ts = tile_s[(oh / m) * TW + ow / m];
          ts = std::max(ts, s);
        }
      for (size_t oh = 0; oh < d.OH; ++oh)
        for (size_t ow = 0; ow < d.OW; ++ow) {
          const size_t o = ((n * p.outC + oc) * d.OH + oh) * d.OW + ow;
          double r = ref[oh * EW + ow], s = tile_s[(oh / m) * TW + ow / m];
          if (!d.b.empty()) r += d.b[oc], s += std::fabs(d.b[oc]);
          if (!d.res.empty()) r += d.res[o], s += std::fabs(d.res[o]);
          if (p.act == 1 && r < 0) r = 0;
          const double got = out[o], err = std::fabs(got - r);
          if (std::isnan(got) || !(err <= rel_tol * s + 1e-30)) {
            if (st.bad < 3)
              std::fprintf(stderr, "  %s F(%zu) N%zu C%zu->%zu %zux%zu pad[%zu,%zu,%zu,%zu]: out[%zu,%zu,%zu,%zu] = %.9g, ref %.9g\n",
                           what, m, p.N, p.C, p.outC, p.H, p.W, p.padTop, p.padLeft, p.padBottom, p.padRight, n, oc,
                           oh, ow, got, r);
            ++st.bad;
          }
          if (s > 0) st.max_over_s = std::max(st.max_over_s, err / s);
          st.max_abs = std::max(st.max_abs, err);
          st.max_ref = std::max(st.max_ref, std::fabs(r));
        }
    }
  return st;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

constexpr double kTol = 1e-5;

const WCase kCases[] = {
    // N  C outC  H   W   pt pl pb pr  bias   res    relu
    {1, 1, 1, 1, 1, 1, 1, 1, 1, false, false, false},     // 1x1 input
    {1, 3, 5, 2, 2, 1, 1, 1, 1, true, false, true},       // 2x2 input
    {1, 2, 3, 3, 3, 0, 0, 0, 0, true, true, false},       // 3x3 input, 1x1 output
    {1, 4, 2, 3, 5, 0, 0, 0, 0, false, true, true},       // single output row
    {2, 5, 7, 9, 11, 1, 1, 1, 1, true, true, true},       // N = 2, every epilogue
    {1, 17, 13, 10, 7, 0, 2, 1, 0, true, false, false},   // asymmetric padding
    {3, 8, 16, 16, 16, 1, 1, 1, 1, false, false, true},   // N = 3, tile multiples
    {1, 33, 9, 23, 30, 3, 0, 5, 2, true, true, false},    // large asymmetric padding
    {1, 2, 3, 5, 5, 4, 4, 4, 4, true, false, false},      // padding > kernel: all-zero tiles
    {1, 6, 10, 14, 15, 0, 0, 0, 0, false, false, false},  // zero padding, H/W not multiples of 4
    {1, 19, 24, 57, 57, 1, 1, 1, 1, true, true, true},    // 225 tiles: several blocks
    {1, 2, 3, 6, 300, 1, 1, 1, 1, true, false, false},    // 75 tiles per row: split segments
    {1, 64, 64, 20, 20, 1, 1, 1, 1, true, true, true},    // K multiple of MR (in-place weights)
    {2, 31, 47, 12, 13, 2, 1, 0, 3, true, true, true},    // odd everything
    {1, 1, 1, 33, 2, 1, 0, 1, 1, false, false, false},    // width 2, one-sided padding: OW = 1
};

TEST_CASE("winograd: conv vs float64 reference (shapes, padding, epilogues), F(4x4) and F(2x2)") {
  uint64_t seed = 1;
  int bad = 0;
  for (const int m : {4, 2})
    for (const WCase& c : kCases) {
      const Data d = make_data(c, seed++, m);
      std::vector<float> out;
      CHECK(run(d, &out) == Status::kOk);
      const ErrStats st = compare(d, out, kTol, "default");
      bad += st.bad;
      if (std::getenv("SIMDCNN_WINOGRAD_VERBOSE"))
        std::printf("    F(%d) C=%zu->%zu %zux%zu: max|err|/S = %.3g\n", m, c.C, c.outC, c.H, c.W, st.max_over_s);
    }
  CHECK(bad == 0);
}

TEST_CASE("winograd: the tile size follows the map size; u records it") {
  Conv2dParams p = params_of({1, 256, 256, 14, 14, 1, 1, 1, 1, false, false, false});
  CHECK(winograd_tile_size(p) == 2 && winograd_preferred(p));
  p = params_of({1, 64, 64, 56, 56, 1, 1, 1, 1, false, false, false});
  CHECK(winograd_tile_size(p) == 4 && winograd_preferred(p));
  p = params_of({1, 512, 512, 7, 7, 1, 1, 1, 1, false, false, false});
  CHECK(winograd_tile_size(p) == 2 && !winograd_preferred(p));
  // Weights made for F(2x2) run as F(2x2) whatever the shape would choose, and are rejected for
  // another layer.
  const Data d = make_data({1, 16, 16, 30, 30, 1, 1, 1, 1, true, false, true}, 321, 2);
  CHECK(winograd_tile_size(d.p) == 4 && winograd_weights_tile(d.p, d.u.data()) == 2);
  std::vector<float> out;
  CHECK(run(d, &out) == Status::kOk);
  CHECK(compare(d, out, kTol, "forced F(2x2)").bad == 0);
  Conv2dParams q = d.p;
  q.outC = 15;
  CHECK(winograd_weights_tile(q, d.u.data()) == 0);
  CHECK(conv2d_winograd(q, d.x.data(), d.u.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  CHECK(winograd_weights_size(d.p, 3) == 0);
}

TEST_CASE("winograd: blocking and split modes change no bit") {
  const WinogradTuning tunings[] = {{16, 0}, {16, 1}, {16, 2}, {32, 2}, {48, 1}, {1000, 0}};
  uint64_t seed = 50;
  int bad = 0;
  for (const WCase& c : kCases) {
    const int m = seed % 2 ? 4 : 2;
    const Data d = make_data(c, seed++, m);
    std::vector<float> ref, out;
    CHECK(run(d, &ref) == Status::kOk);
    for (const WinogradTuning& t : tunings) {
      CHECK(run(d, &out, &t) == Status::kOk);
      if (!same_bits(ref, out)) {
        if (bad < 3)
          std::fprintf(stderr, "  tuning {%zu, %d} differs: C%zu->%zu %zux%zu\n", t.tile_block, t.mode, c.C, c.outC,
                       c.H, c.W);
        ++bad;
      }
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("winograd: batch invariance and 1 vs 2 threads bitwise") {
  const int saved = num_threads();
  const WCase cases[] = {{3, 16, 24, 28, 28, 1, 1, 1, 1, true, true, true},
                         {2, 9, 8, 13, 30, 1, 2, 0, 1, true, false, false},
                         {5, 8, 16, 7, 7, 1, 1, 1, 1, false, true, true},
                         {2, 40, 40, 14, 14, 1, 1, 1, 1, true, true, true}};
  uint64_t seed = 90;
  int bad = 0;
  for (const int m : {4, 2})
  for (const WCase& c : cases) {
    const Data d = make_data(c, seed++, m);
    std::vector<float> full;
    CHECK(run(d, &full) == Status::kOk);
    bad += compare(d, full, kTol, "batch").bad;
    // Each image alone.
    const size_t in_sz = c.C * c.H * c.W, out_sz = c.outC * d.OH * d.OW;
    for (size_t n = 0; n < c.N; ++n) {
      Data one = d;
      one.p.N = 1;
      one.x.assign(d.x.begin() + n * in_sz, d.x.begin() + (n + 1) * in_sz);
      if (!d.res.empty()) one.res.assign(d.res.begin() + n * out_sz, d.res.begin() + (n + 1) * out_sz);
      std::vector<float> o1;
      CHECK(run(one, &o1) == Status::kOk);
      if (std::memcmp(o1.data(), full.data() + n * out_sz, out_sz * sizeof(float)) != 0) ++bad;
    }
    // Thread counts.
    std::vector<float> t1, t2;
    set_num_threads(1);
    CHECK(run(d, &t1) == Status::kOk);
    set_num_threads(2);
    CHECK(run(d, &t2) == Status::kOk);
    set_num_threads(saved);
    if (!same_bits(t1, t2) || !same_bits(t1, full)) ++bad;
  }
  CHECK(bad == 0);
}

// G[j][k] = p_j^k / prod_{l != j} (p_j - p_l) for the finite points, last row [0, 0, 1].
template <int A>
void g_from_points(const double (&pts)[A - 1], double (&G)[A][3]) {
  for (int j = 0; j < A - 1; ++j) {
    double f = 1;
    for (int l = 0; l < A - 1; ++l)
      if (l != j) f *= pts[j] - pts[l];
    for (int k = 0; k < 3; ++k) G[j][k] = std::pow(pts[j], k) / f;
  }
  G[A - 1][0] = G[A - 1][1] = 0;
  G[A - 1][2] = 1;
}

// Every element of u read back through winograd_weight_at against G g G^T in double.
template <int A>
int check_transform(const double (&G)[A][3], int m) {
  int bad = 0;
  for (size_t outC : {1, 5, 16, 33}) {
    for (size_t C : {1, 3, 17}) {
      Rng rng(outC * 100 + C);
      Conv2dParams p = params_of({1, C, outC, 8, 8, 1, 1, 1, 1, false, false, false});
      std::vector<float> w(outC * C * 9), u(winograd_weights_size(p, m), std::nanf(""));
      rng.fill(w);
      CHECK(winograd_weights(p, w.data(), u.data(), m) == Status::kOk);
      for (size_t oc = 0; oc < outC; ++oc)
        for (size_t c = 0; c < C; ++c)
          for (int i = 0; i < A; ++i)
            for (int j = 0; j < A; ++j) {
              double ref = 0, s = 0;
              for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) {
                  const double t = G[i][a] * w[((oc * C + c) * 3 + a) * 3 + b] * G[j][b];
                  ref += t;
                  s += std::fabs(t);
                }
              const double got = winograd_weight_at(p, u.data(), static_cast<size_t>(A * i + j), oc, c);
              // Computed in double and rounded once: within half a float32 ulp (2^-24 relative).
              if (!(std::fabs(got - ref) <= 6e-8 * std::fabs(ref) + 1e-12 * s)) ++bad;
            }
    }
  }
  return bad;
}

TEST_CASE("winograd: weight transforms vs G built from the points (0, 1, -1, 1/2, -2 and 0, 1, -1)") {
  const double pts4[5] = {0, 1, -1, 0.5, -2};
  double G4[6][3];
  g_from_points<6>(pts4, G4);
  // Unscaled, so it is the G documented in winograd.h (spot-check two entries).
  CHECK(std::fabs(G4[3][0] + 16.0 / 15) < 1e-12 && std::fabs(G4[4][2] - 4.0 / 15) < 1e-12);
  CHECK(check_transform<6>(G4, 4) == 0);
  // F(2x2): Lavin & Gray's G (points 0, 1, -1 with the point formula's scale factors moved into B^T),
  // as documented in winograd_impl.h.
  const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  CHECK(check_transform<4>(G2, 2) == 0);
}

TEST_CASE("winograd: rejects shapes it does not implement") {
  Conv2dParams p = params_of({1, 2, 2, 5, 5, 1, 1, 1, 1, false, false, false});
  std::vector<float> x(50), w(36), u(winograd_weights_size(p)), out(50);
  CHECK(winograd_applicable(p));
  CHECK(winograd_weights(p, w.data(), u.data()) == Status::kOk);
  CHECK(conv2d_winograd(p, x.data(), u.data(), nullptr, nullptr, out.data()) == Status::kOk);
  Conv2dParams q = p;
  q.strideH = 2;
  CHECK(!winograd_applicable(q) && conv2d_winograd(q, x.data(), u.data(), nullptr, nullptr, out.data()) ==
                                       Status::kInvalidArgument);
  q = p;
  q.kW = 5;
  CHECK(conv2d_winograd(q, x.data(), u.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  q = p;
  q.dilationH = 2;
  CHECK(conv2d_winograd(q, x.data(), u.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  q = p;
  q.groups = 2;
  CHECK(conv2d_winograd(q, x.data(), u.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  q = p;
  q.H = 1;
  q.padTop = q.padBottom = 0;  // empty output
  CHECK(conv2d_winograd(q, x.data(), u.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  CHECK(conv2d_winograd(p, nullptr, u.data(), nullptr, nullptr, out.data()) == Status::kInvalidArgument);
  CHECK(!winograd_preferred(q));
}

// The numbers behind the tolerance (and the report): max |err| / S and max |err| / max |ref| on the
// ResNet-18 channel counts, C up to 512 (outC kept small so the float64 reference stays quick).
TEST_CASE("winograd: error report, C up to 512") {
  const WCase cases[] = {{1, 64, 16, 56, 56, 1, 1, 1, 1, false, false, false},
                         {1, 128, 16, 28, 28, 1, 1, 1, 1, false, false, false},
                         {1, 256, 16, 14, 14, 1, 1, 1, 1, false, false, false},
                         {1, 512, 16, 7, 7, 1, 1, 1, 1, false, false, false},
                         {1, 512, 8, 16, 16, 1, 1, 1, 1, false, false, false}};
  uint64_t seed = 700;
  int bad = 0;
  for (const int m : {4, 2})
  for (const WCase& c : cases) {
    const Data d = make_data(c, seed++, m);
    std::vector<float> out;
    CHECK(run(d, &out) == Status::kOk);
    const ErrStats st = compare(d, out, kTol, "error report");
    bad += st.bad;
    // The direct GEMM convolution on the same data, for scale.
    std::vector<float> direct(out.size());
    CHECK(conv2d(d.p, d.x.data(), d.w.data(), nullptr, direct.data()) == Status::kOk);
    const ErrStats sd = compare(d, direct, kTol, "direct");
    std::printf("    F(%d) C=%zu %zux%zu: winograd max|err|/S = %.3g, max|err|/max|ref| = %.3g; direct %.3g, %.3g\n", m, c.C,
                c.H, c.W, st.max_over_s, st.max_abs / st.max_ref, sd.max_over_s, sd.max_abs / sd.max_ref);
  }
  CHECK(bad == 0);
}

}  // namespace
}  // namespace simdcnn
