// GEMM, conv2d, linear and matmul against naive double-precision references. Tolerances scale with
// the reduction length: |got - ref| <= 1e-6*|ref| + 4e-7*sqrt(K)*sum|terms|.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/cpu.h"
#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/act/unary.h"
#include "kernels/conv/conv2d.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/linear.h"
#include "test/harness.h"
#include "test/gemm_test_util.h"

namespace simdcnn {
namespace {

struct GemmCase {
  size_t M, N, K;
  bool ta, tb;
  int pad_a, pad_b, pad_c;  // extra leading-dimension elements
  bool row_bias, col_bias, accumulate, relu;
};

// Runs one GEMM and compares with a double loop; also checks that C's padding is untouched.
int check_gemm(const GemmCase& g, uint64_t seed) {
  Rng rng(seed);
  const size_t lda = (g.ta ? g.M : g.K) + g.pad_a, ldb = (g.tb ? g.K : g.N) + g.pad_b, ldc = g.N + g.pad_c;
  std::vector<float> A((g.ta ? g.K : g.M) * lda + 1), B((g.tb ? g.N : g.K) * ldb + 1), C(g.M * ldc + 1);
  std::vector<float> rb(g.M), cb(g.N);
  rng.fill(A);
  rng.fill(B);
  rng.fill(C);
  rng.fill(rb);
  rng.fill(cb);
  const std::vector<float> C0 = C;
  GemmEpilogue ep;
  ep.row_bias = g.row_bias ? rb.data() : nullptr;
  ep.col_bias = g.col_bias ? cb.data() : nullptr;
  ep.accumulate = g.accumulate;
  ep.act = g.relu ? GemmAct::kRelu : GemmAct::kNone;
  const Status s = gemm(g.M, g.N, g.K, A.data(), lda, g.ta, B.data(), ldb, g.tb, C.data(), ldc, ep);
  if (s != Status::kOk) return 1;
  int bad = 0;
  for (size_t i = 0; i < g.M; ++i) {
    for (size_t j = 0; j < g.N; ++j) {
      double ref = 0, abs_sum = 0;
      for (size_t k = 0; k < g.K; ++k) {
        const double a = g.ta ? A[k * lda + i] : A[i * lda + k];
        const double b = g.tb ? B[j * ldb + k] : B[k * ldb + j];
        ref += a * b;
        abs_sum += std::fabs(a * b);
      }
      if (g.accumulate) ref += C0[i * ldc + j], abs_sum += std::fabs(C0[i * ldc + j]);
      if (g.row_bias) ref += rb[i], abs_sum += std::fabs(rb[i]);
      if (g.col_bias) ref += cb[j], abs_sum += std::fabs(cb[j]);
      if (g.relu && ref < 0) ref = 0;
      if (!within(C[i * ldc + j], ref, abs_sum, g.K)) {
        if (bad < 3)
          std::fprintf(stderr, "  gemm M=%zu N=%zu K=%zu ta=%d tb=%d: C[%zu,%zu] = %.9g, ref %.9g\n", g.M, g.N,
                       g.K, g.ta, g.tb, i, j, C[i * ldc + j], ref);
        ++bad;
      }
    }
    for (size_t j = g.N; j < ldc && i * ldc + j < C.size(); ++j)
      if (std::memcmp(&C[i * ldc + j], &C0[i * ldc + j], sizeof(float)) != 0) ++bad;
  }
  if (std::memcmp(&C.back(), &C0.back(), sizeof(float)) != 0) ++bad;
  return bad;
}

TEST_CASE("gemm: sizes incl. 1, primes and tile +-1, all transposes") {
  const size_t dims[] = {1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 47, 48, 49, 97};
  uint64_t seed = 1;
  int bad = 0;
  for (size_t M : dims)
    for (size_t N : dims) {
      const size_t K = dims[(M * 7 + N * 3) % 16];
      for (int t = 0; t < 4; ++t) {
        GemmCase g{M, N, K, (t & 1) != 0, (t & 2) != 0, 0, 0, 0, false, false, false, false};
        bad += check_gemm(g, seed++);
      }
    }
  CHECK(bad == 0);
}

// The 8x12 NEON tile's edges (rows 7..9 and 15..17, columns 11..13 and 23..25) with every epilogue.
TEST_CASE("gemm: 8x12 tile edges x epilogues") {
  const size_t ms[] = {7, 8, 9, 15, 16, 17}, ns[] = {11, 12, 13, 23, 24, 25};
  uint64_t seed = 400;
  int bad = 0;
  for (size_t M : ms)
    for (size_t N : ns) {
      const int e = static_cast<int>(seed % 16);
      const int t = static_cast<int>(seed % 4);
      GemmCase g{M, N, 5 + M % 3, (t & 1) != 0, (t & 2) != 0, 1, 2, 3, (e & 1) != 0, (e & 2) != 0,
                 (e & 4) != 0, (e & 8) != 0};
      bad += check_gemm(g, seed++);
    }
  CHECK(bad == 0);
}

TEST_CASE("gemm: K sweep across block boundaries") {
  int bad = 0;
  uint64_t seed = 100;
  for (size_t K : {1, 4, 63, 127, 191, 192, 193, 255, 256, 257, 385, 600})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        GemmCase g{13, 50, K, ta, tb, 0, 0, 0, false, false, false, false};
        bad += check_gemm(g, seed++);
      }
  CHECK(bad == 0);
}

TEST_CASE("gemm: epilogues and odd leading dimensions") {
  int bad = 0;
  uint64_t seed = 200;
  const size_t shapes[][3] = {{1, 1, 1}, {6, 16, 5}, {8, 48, 9}, {9, 49, 300}, {17, 33, 11}, {37, 101, 67}, {5, 1, 3}, {1, 70, 29}};
  for (auto& sh : shapes)
    for (int e = 0; e < 16; ++e)
      for (int t = 0; t < 4; ++t) {
        GemmCase g{sh[0], sh[1], sh[2], (t & 1) != 0, (t & 2) != 0, 3, 5, 7, (e & 1) != 0, (e & 2) != 0,
                   (e & 4) != 0, (e & 8) != 0};
        bad += check_gemm(g, seed++);
      }
  CHECK(bad == 0);
}

TEST_CASE("gemm: large (threaded, several N blocks) and thread-count invariant") {
  int bad = 0;
  bad += check_gemm({130, 211, 97, false, false, 0, 0, 1, true, false, false, true}, 300);
  bad += check_gemm({29, 1700, 70, false, true, 0, 0, 0, false, true, true, false}, 301);
  bad += check_gemm({3, 3100, 700, true, false, 0, 0, 0, false, false, false, false}, 302);
  CHECK(bad == 0);
  // Bitwise identical for 1 and 2 threads.
  const int saved = num_threads();
  const size_t M = 70, N = 530, K = 333;
  std::vector<float> A(M * K), B(K * N), C1(M * N), C2(M * N);
  Rng rng(303);
  rng.fill(A);
  rng.fill(B);
  set_num_threads(1);
  CHECK(gemm(M, N, K, A.data(), K, false, B.data(), N, false, C1.data(), N, GemmEpilogue{}) == Status::kOk);
  set_num_threads(2);
  CHECK(gemm(M, N, K, A.data(), K, false, B.data(), N, false, C2.data(), N, GemmEpilogue{}) == Status::kOk);
  set_num_threads(saved);
  CHECK(std::memcmp(C1.data(), C2.data(), C1.size() * sizeof(float)) == 0);
}

TEST_CASE("gemm: A viewed in place is bitwise the packed result") {
  // gemm_view_a reads A rows in place where the ISA has such a kernel (M a multiple of MR), and
  // narrow column tails use narrower kernels: every tile shape must match the packed path exactly.
  // Up to K = 64 full tiles of an in-place A also read B in place (unless M > 64 and B's row
  // stride is a multiple of 256 floats: N = 256 below takes both branches).
  Rng rng(410);
  for (size_t M : {8, 16, 24, 64, 72, 13}) {
    for (size_t K : {1, 7, 16, 64, 65, 192, 193, 450}) {
      const size_t lda = K + 3;
      std::vector<float> A(M * lda), bias(M), col_bias(256);
      rng.fill(A);
      rng.fill(bias);
      rng.fill(col_bias);
      PackedA view, pack;
      CHECK(gemm_view_a(M, K, A.data(), lda, &view) == Status::kOk);
      CHECK(gemm_pack_a(M, K, A.data(), lda, false, &pack) == Status::kOk);
      for (size_t N : {1, 15, 16, 17, 33, 48, 61, 97, 150, 256}) {
        std::vector<float> B(K * N), C(M * N), R(M * N);
        rng.fill(B);
        for (int act = 0; act < 2; ++act) {
          GemmEpilogue ep;
          ep.row_bias = bias.data();
          ep.col_bias = act ? col_bias.data() : nullptr;
          ep.act = act ? GemmAct::kRelu : GemmAct::kNone;
          CHECK(gemm_packed_a(view, N, B.data(), N, false, C.data(), N, ep) == Status::kOk);
          CHECK(gemm_packed_a(pack, N, B.data(), N, false, R.data(), N, ep) == Status::kOk);
          CHECK(std::memcmp(C.data(), R.data(), C.size() * sizeof(float)) == 0);
        }
      }
      // A column's value must not depend on the width of the tile it lands in: the first 61
      // columns (a full 48-wide panel and a narrow tail) against a run where every tile is full.
      const size_t W = 96, n = 61;
      std::vector<float> B(K * W), wide(M * W), part(M * n);
      rng.fill(B);
      for (const PackedA* pa : {&view, &pack}) {
        CHECK(gemm_packed_a(*pa, W, B.data(), W, false, wide.data(), W, GemmEpilogue{}) == Status::kOk);
        CHECK(gemm_packed_a(*pa, n, B.data(), W, false, part.data(), n, GemmEpilogue{}) == Status::kOk);
        for (size_t i = 0; i < M; ++i)
          CHECK(std::memcmp(part.data() + i * n, wide.data() + i * W, n * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("gemm: packed A reused across calls") {
  const size_t M = 19, K = 45;
  std::vector<float> A(M * K);
  Rng rng(400);
  rng.fill(A);
  PackedA pa;
  CHECK(gemm_pack_a(M, K, A.data(), K, false, &pa) == Status::kOk);
  for (size_t N : {1, 7, 50, 97}) {
    std::vector<float> B(K * N), C(M * N), R(M * N);
    rng.fill(B);
    CHECK(gemm_packed_a(pa, N, B.data(), N, false, C.data(), N, GemmEpilogue{}) == Status::kOk);
    CHECK(gemm(M, N, K, A.data(), K, false, B.data(), N, false, R.data(), N, GemmEpilogue{}) == Status::kOk);
    CHECK(std::memcmp(C.data(), R.data(), C.size() * sizeof(float)) == 0);
  }
  // K == 0: the product is empty, so C = bias.
  float c[2] = {5, 5};
  const float bias[2] = {1.5f, -2.0f};
  GemmEpilogue ep;
  ep.col_bias = bias;
  CHECK(gemm(1, 2, 0, nullptr, 0, false, nullptr, 2, false, c, 2, ep) == Status::kOk);
  CHECK(c[0] == 1.5f && c[1] == -2.0f);
}

// ---- conv2d ----

std::vector<double> conv_ref(const Conv2dParams& p, const std::vector<float>& x, const std::vector<float>& w,
                             const float* bias, size_t OH, size_t OW, std::vector<double>* abs_sum) {
  const size_t Cg = p.C / p.groups, Mg = p.outC / p.groups;
  std::vector<double> out(p.N * p.outC * OH * OW);
  abs_sum->assign(out.size(), 0.0);
  for (size_t n = 0; n < p.N; ++n)
    for (size_t oc = 0; oc < p.outC; ++oc) {
      const size_t g = oc / Mg;
      for (size_t oh = 0; oh < OH; ++oh)
        for (size_t ow = 0; ow < OW; ++ow) {
          double s = bias ? bias[oc] : 0.0, a = bias ? std::fabs(bias[oc]) : 0.0;
          for (size_t c = 0; c < Cg; ++c)
            for (size_t kh = 0; kh < p.kH; ++kh)
              for (size_t kw = 0; kw < p.kW; ++kw) {
                const int64_t ih = static_cast<int64_t>(oh * p.strideH + kh * p.dilationH) - static_cast<int64_t>(p.padTop);
                const int64_t iw = static_cast<int64_t>(ow * p.strideW + kw * p.dilationW) - static_cast<int64_t>(p.padLeft);
                if (ih < 0 || iw < 0 || ih >= static_cast<int64_t>(p.H) || iw >= static_cast<int64_t>(p.W)) continue;
                const double xv = x[((n * p.C + g * Cg + c) * p.H + ih) * p.W + iw];
                const double wv = w[((oc * Cg + c) * p.kH + kh) * p.kW + kw];
                s += xv * wv;
                a += std::fabs(xv * wv);
              }
          if (p.act == 1 && s < 0) s = 0;
          const size_t idx = ((n * p.outC + oc) * OH + oh) * OW + ow;
          out[idx] = s;
          (*abs_sum)[idx] = a;
        }
    }
  return out;
}

Conv2dParams make(size_t N, size_t C, size_t H, size_t W, size_t outC, size_t kH, size_t kW, size_t sH, size_t sW,
                  size_t pT, size_t pL, size_t pB, size_t pR, size_t dH, size_t dW, size_t groups, int act) {
  Conv2dParams p;
  p.N = N, p.C = C, p.H = H, p.W = W, p.outC = outC, p.kH = kH, p.kW = kW, p.strideH = sH, p.strideW = sW;
  p.padTop = pT, p.padLeft = pL, p.padBottom = pB, p.padRight = pR, p.dilationH = dH, p.dilationW = dW;
  p.groups = groups, p.act = act;
  return p;
}

int check_conv(const Conv2dParams& p, bool with_bias, uint64_t seed) {
  size_t OH = 0, OW = 0;
  if (!conv2d_output_size(p, &OH, &OW)) return 1000;
  Rng rng(seed);
  std::vector<float> x(p.N * p.C * p.H * p.W), w(p.outC * (p.C / p.groups) * p.kH * p.kW), b(p.outC);
  rng.fill(x);
  rng.fill(w);
  rng.fill(b);
  std::vector<float> out(p.N * p.outC * OH * OW + 1, 777.0f);
  if (conv2d(p, x.data(), w.data(), with_bias ? b.data() : nullptr, out.data()) != Status::kOk) return 1000;
  std::vector<double> abs_sum;
  const std::vector<double> ref = conv_ref(p, x, w, with_bias ? b.data() : nullptr, OH, OW, &abs_sum);
  const size_t K = (p.C / p.groups) * p.kH * p.kW;
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!within(out[i], ref[i], abs_sum[i], K)) {
      if (bad < 3)
        std::fprintf(stderr, "  conv N=%zu C=%zu H=%zu W=%zu outC=%zu k=%zux%zu g=%zu: out[%zu] = %.9g, ref %.9g\n", p.N,
                     p.C, p.H, p.W, p.outC, p.kH, p.kW, p.groups, i, out[i], ref[i]);
      ++bad;
    }
  if (out.back() != 777.0f) ++bad;  // no write past the output
  return bad;
}

TEST_CASE("conv2d: geometry matrix vs direct reference") {
  const Conv2dParams cases[] = {
      make(1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0),
      make(2, 5, 9, 8, 7, 3, 3, 2, 2, 0, 1, 2, 1, 1, 1, 1, 1),   // stride 2, asymmetric padding
      make(1, 4, 11, 10, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0), // dilation 2
      make(1, 6, 8, 9, 4, 3, 2, 1, 2, 1, 0, 0, 1, 1, 3, 2, 1),   // groups 2, non-square, mixed
      make(2, 9, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 0),   // groups 3
      make(1, 10, 5, 6, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1),  // 1x1 straight into GEMM
      make(2, 13, 7, 5, 11, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0), // 1x1 stride 2 (im2col)
      make(1, 3, 6, 6, 5, 1, 1, 1, 1, 1, 0, 1, 2, 1, 1, 1, 0),   // 1x1 padded
      make(1, 5, 9, 10, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, 1),  // depthwise
      make(2, 7, 12, 11, 7, 3, 3, 2, 2, 1, 0, 1, 2, 1, 1, 7, 0), // depthwise stride 2, asym pad
      make(1, 3, 8, 8, 6, 5, 3, 1, 1, 2, 1, 2, 1, 2, 1, 3, 1),   // depthwise multiplier 2, dilation
      make(1, 17, 33, 35, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, 0), // depthwise, rows > 16 wide
      make(1, 3, 9, 70, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 1),  // depthwise stride 2, vector path
      make(1, 2, 5, 33, 2, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 2, 0),  // stride 2 ending at the buffer end
      make(1, 2, 4, 66, 2, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 2, 0),  // stride 2, even width
      make(2, 4, 7, 40, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 4, 0),  // depthwise x2, dilated, wide
      make(1, 3, 6, 50, 3, 3, 5, 3, 3, 1, 2, 1, 2, 1, 1, 3, 1),  // depthwise stride 3 (element loop)
      make(1, 2, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1),   // depthwise 1x1 plane, all taps padding
      make(1, 3, 112, 112, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 1), // depthwise s2, several bands, last input row
      make(1, 2, 9, 300, 2, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 2, 0),  // depthwise band of one row
      make(2, 3, 15, 15, 3, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 3, 1),  // depthwise 5x5 s2, odd size
      make(1, 2, 17, 31, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 2, 0),  // depthwise 5x5 s1, row tail
      make(1, 2, 4, 4, 2, 3, 3, 1, 1, 4, 4, 4, 4, 1, 1, 2, 1),    // depthwise padding past the kernel reach
      make(1, 2, 19, 23, 4, 3, 5, 3, 2, 1, 4, 2, 0, 1, 3, 2, 0),  // depthwise x2, strides (3,2), dilation (1,3)
      make(1, 2, 10, 37, 2, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 2, 1),  // depthwise s2 odd width, bottom/right pad
      make(1, 2, 7, 40, 2, 2, 9, 12, 9, 0, 0, 0, 0, 1, 1, 2, 0),  // depthwise stride > 8 along W (phase table)
      make(1, 2, 5, 600, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1),  // depthwise s2 wider than the direct path's chunks (bands)
      make(1, 3, 14, 14, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 1),  // depthwise s2 14 -> 7 (direct path, one chunk)
      make(1, 2, 8, 33, 2, 9, 9, 1, 2, 4, 4, 4, 4, 1, 1, 2, 0),   // depthwise s2 kernel wider than 8 (bands)
      make(1, 4, 13, 13, 4, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 4, 1),  // depthwise 5x5, 13 rows: a block of 8 and one of 5
      make(1, 3, 23, 23, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 0),  // depthwise s2 23 -> 12: blocks of 8 and 4
      make(1, 2, 6, 40, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1),   // depthwise 6 rows, 3 chunks (AVX2: blocks of 4 and 2)
      // The direct path (stride 1 or 2 both ways, no dilation, kW <= 8, <= 16 vectors per row):
      make(1, 2, 5, 250, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1),  // 16 AVX-512 chunks, 5 rows: a block of 4 + 1
      make(1, 2, 6, 256, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0),  // exactly 16 chunks, 4 + 2 rows
      make(1, 2, 7, 257, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1),  // one column past them (bands), 4 + 3 rows
      make(2, 3, 9, 17, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 3, 0),   // no padding: masks only at the row end
      make(1, 2, 11, 31, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 2, 1),  // 5x5 s1, a masked last chunk
      make(1, 2, 13, 34, 2, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 2, 0),  // 5x5 s2, 7 output rows
      make(1, 2, 12, 40, 2, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 2, 1),  // 7x7 (kernel size at run time)
      make(1, 2, 10, 20, 2, 3, 8, 2, 2, 1, 4, 0, 3, 1, 1, 2, 0),  // kW = 8, asymmetric padding, s2
      make(1, 2, 6, 16, 2, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 2, 1),   // padding 2 > kernel reach of one side
      make(1, 4, 3, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1),    // multiplier 2, rows of 3 (one masked chunk)
      make(1, 2, 28, 28, 2, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 2, 0),  // s2 bottom/right pad only (TF 'same')
      make(1, 2, 9, 300, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1),  // s2 150 outputs: 10 AVX-512 / 19 AVX2 chunks
      make(1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0),   // kernel larger than input
      make(1, 5, 13, 12, 16, 3, 3, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1), // stride 2 dilation 2: one phase used
      make(1, 6, 14, 15, 8, 2, 2, 3, 3, 1, 0, 2, 1, 1, 1, 1, 0),  // stride 3, kernel 2: 4 of 9 phases
      make(1, 16, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // 7x7 map: 61 columns, narrow tail
      make(1, 8, 14, 14, 16, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0), // 1x1 stride 2, outC % 8 == 0
      make(1, 1, 5, 5, 1, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0),   // single output
      make(3, 13, 10, 9, 11, 2, 5, 1, 3, 0, 2, 1, 2, 1, 1, 1, 1),
      make(1, 32, 20, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), // big enough to thread the GEMM
      make(1, 64, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0), // K = 576 (several K blocks)
      make(4, 8, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1),  // batch of small grouped GEMMs
      make(2, 5, 9, 7, 6, 3, 1, 1, 1, 0, 0, 0, 0, 2, 1, 1, 1),   // kW == 1, unpadded, dilated rows
      make(1, 7, 5, 12, 9, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, 1, 0),  // 1x7, horizontal padding only
      make(1, 3, 10, 10, 50, 4, 4, 1, 1, 0, 0, 3, 3, 1, 1, 1, 1), // even kernel, bottom/right padding
      make(2, 5, 17, 19, 6, 3, 3, 3, 3, 2, 1, 0, 3, 2, 2, 1, 0),  // stride 3, dilation 2, asymmetric
      make(1, 4, 9, 11, 5, 2, 2, 4, 3, 3, 0, 1, 4, 1, 1, 1, 1),   // stride > kernel, padding > kernel
      make(1, 6, 23, 21, 10, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 2, 1), // stem-like 7x7 s2, groups 2
      make(1, 3, 8, 40, 4, 1, 3, 1, 2, 0, 1, 0, 1, 1, 3, 1, 0),   // 1x3, strides (1,2), dilation 3
  };
  int bad = 0;
  uint64_t seed = 500;
  for (const auto& p : cases) {
    bad += check_conv(p, true, seed++);
    bad += check_conv(p, false, seed++);
  }
  CHECK(bad == 0);
}

TEST_CASE("conv2d: bitwise identical for 1 and 2 threads") {
  const Conv2dParams cases[] = {
      make(1, 32, 20, 20, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // one threaded GEMM
      make(3, 16, 9, 9, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 0),    // small GEMMs spread over tasks
      make(2, 24, 30, 30, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 24, 1), // depthwise planes
  };
  const int saved = num_threads();
  for (const auto& p : cases) {
    size_t OH = 0, OW = 0;
    CHECK(conv2d_output_size(p, &OH, &OW));
    Rng rng(900);
    std::vector<float> x(p.N * p.C * p.H * p.W), w(p.outC * (p.C / p.groups) * p.kH * p.kW), b(p.outC);
    rng.fill(x);
    rng.fill(w);
    rng.fill(b);
    std::vector<float> o1(p.N * p.outC * OH * OW), o2(o1.size());
    set_num_threads(1);
    CHECK(conv2d(p, x.data(), w.data(), b.data(), o1.data()) == Status::kOk);
    set_num_threads(2);
    CHECK(conv2d(p, x.data(), w.data(), b.data(), o2.data()) == Status::kOk);
    CHECK(std::memcmp(o1.data(), o2.data(), o1.size() * sizeof(float)) == 0);
  }
  set_num_threads(saved);
}

// AVX-512 runs rows that fit in a vector (at stride 2, two) through the narrow-row kernel (one
// load per input row, taps as permutes) and 8-row blocks elsewhere; AVX2 runs the same layers through chunked masked
// loads (blocks of 4 or 8 rows). Both multiply the same values in the same order with FMAs, so
// AVX-512 must give AVX2's bits, NaN and infinity included. (The scalar ISA rounds a*b and a*b+c
// separately: it is checked against the reference above.)
TEST_CASE("conv2d: depthwise, AVX-512 gives AVX2's bits") {
  struct Case {
    Conv2dParams p;
    int act;
  };
  const Case cases[] = {
      {make(1, 5, 14, 14, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, 1), 0},    // 14x14: narrow on AVX-512
      {make(1, 4, 14, 14, 4, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 4, 1), 1},    // 5x5/2 14 -> 7
      {make(2, 3, 14, 14, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 0), 0},    // 3x3/2 14 -> 7, N 2
      {make(1, 6, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1), 5},      // 7x7: narrow on both
      {make(1, 3, 7, 7, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 3, 1), 6},      // 5x5 on 7x7, SiLU after
      {make(1, 2, 16, 16, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1), 0},    // rows of exactly 16
      {make(1, 2, 17, 17, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0), 0},    // 17: two chunks
      {make(1, 2, 12, 12, 2, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 2, 1), 0},    // OW 16 from W 12 (padding 3)
      {make(1, 2, 13, 13, 2, 3, 3, 1, 1, 4, 4, 4, 4, 1, 1, 2, 1), 0},    // OW 19 from W 13: chunks
      {make(1, 3, 11, 9, 6, 5, 5, 2, 2, 2, 1, 0, 3, 1, 1, 3, 1), 0},     // multiplier 2, asymmetric pads
      {make(1, 2, 23, 23, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 0), 0},    // 23 -> 12: rows of two vectors
      {make(1, 3, 28, 28, 3, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 3, 1), 1},    // 5x5/2 28 -> 14
      {make(1, 2, 32, 32, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1), 0},    // 32 -> 16: both vectors full
      {make(1, 2, 31, 17, 2, 3, 3, 2, 2, 0, 2, 0, 1, 1, 1, 2, 0), 5},    // W 17, left pad 2
      {make(1, 2, 9, 33, 2, 3, 3, 2, 2, 1, 0, 1, 0, 1, 1, 2, 1), 0},     // W 33 -> 16: past two vectors
      {make(1, 2, 9, 15, 2, 3, 7, 1, 1, 1, 3, 1, 3, 1, 1, 2, 1), 0},     // 3x7 (kernel at run time)
      {make(1, 8, 28, 28, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, 1), 5},    // 28x28: 2 / 4 chunks
      {make(1, 4, 56, 56, 4, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 4, 1), 0},    // s2 'same' (bottom/right pad)
  };
  if (!isa_supported(Isa::kAvx2) || !isa_supported(Isa::kAvx512)) return;
  const Isa here = active_isa();
  int bad = 0;
  uint64_t seed = 4100;
  for (const auto& c : cases) {
    Conv2dParams p = c.p;
    p.act = c.act;
    p.act_alpha = 0.0f;
    p.act_beta = 6.0f;
    size_t OH = 0, OW = 0;
    CHECK(conv2d_output_size(p, &OH, &OW));
    Rng rng(seed++);
    std::vector<float> x(p.N * p.C * p.H * p.W), w(p.outC * p.kH * p.kW), b(p.outC);
    rng.fill(x);
    rng.fill(w);
    rng.fill(b);
    x[x.size() / 3] = std::nanf("");
    x[x.size() / 2] = -0.0f;
    w[w.size() - 1] = INFINITY;  // infinity times a padding zero is NaN on every path
    std::vector<float> ref(p.N * p.outC * OH * OW);
    set_active_isa(Isa::kAvx2);
    CHECK(conv2d(p, x.data(), w.data(), b.data(), ref.data()) == Status::kOk);
    for (Isa other : {Isa::kAvx512}) {
      set_active_isa(other);
      std::vector<float> got(ref.size(), 777.0f);
      CHECK(conv2d(p, x.data(), w.data(), b.data(), got.data()) == Status::kOk);
      for (size_t i = 0; i < ref.size(); ++i)
        if (!(std::isnan(ref[i]) && std::isnan(got[i])) && std::memcmp(&ref[i], &got[i], sizeof(float)) != 0) {
          std::printf("  depthwise case %d on %s: output %zu is %a, AVX2's %a\n", static_cast<int>(&c - cases),
                      isa_name(other), i, static_cast<double>(got[i]), static_cast<double>(ref[i]));
          ++bad;
          break;
        }
    }
  }
  set_active_isa(here);
  CHECK(bad == 0);
}

TEST_CASE("conv2d: seed example 7x7, 3x3, stride 2 is exact") {
  const float x[49] = {2, 3, 7, 4, 6, 2, 9, 6, 6, 9, 8, 7, 4, 3, 3, 4, 8, 3, 8, 9, 7, 7, 8, 3, 6,
                       6, 3, 4, 4, 2, 1, 8, 3, 4, 6, 3, 2, 4, 1, 9, 8, 3, 0, 1, 3, 9, 2, 1, 4};
  const float w[9] = {3, 4, 4, 1, 0, 2, -1, 0, 3};
  const float expect[9] = {91, 100, 88, 69, 91, 117, 44, 72, 74};
  Conv2dParams p = make(1, 1, 7, 7, 1, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0);
  size_t OH = 0, OW = 0;
  CHECK(conv2d_output_size(p, &OH, &OW) && OH == 3 && OW == 3);
  float out[9] = {};
  CHECK(conv2d(p, x, w, nullptr, out) == Status::kOk);
  for (int i = 0; i < 9; ++i) CHECK(out[i] == expect[i]);
}

TEST_CASE("conv2d: invalid geometry is rejected without writing") {
  float x[4] = {1, 2, 3, 4}, w[9] = {}, out[4] = {9, 9, 9, 9};
  size_t OH, OW;
  Conv2dParams p = make(1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0);  // empty output
  CHECK(!conv2d_output_size(p, &OH, &OW));
  CHECK(conv2d(p, x, w, nullptr, out) == Status::kInvalidArgument);
  p = make(1, 3, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 0);  // groups does not divide C
  CHECK(conv2d(p, x, w, nullptr, out) == Status::kInvalidArgument);
  p = make(1, 1, 2, 2, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0);  // stride 0
  CHECK(conv2d(p, x, w, nullptr, out) == Status::kInvalidArgument);
  p = make(1, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, kActCodeCount);  // act past the last unary kind
  CHECK(conv2d(p, x, w, nullptr, out) == Status::kInvalidArgument);
  p.act = -1;
  CHECK(conv2d(p, x, w, nullptr, out) == Status::kInvalidArgument);
  CHECK(out[0] == 9 && out[3] == 9);
}

TEST_CASE("linear and matmul vs reference") {
  int bad = 0;
  uint64_t seed = 700;
  for (size_t N : {1, 3, 4, 5, 17})
    for (size_t inF : {1, 9, 31, 33, 130, 515})
      for (size_t outF : {1, 3, 10, 49}) {
        Rng rng(seed++);
        std::vector<float> x(N * inF), w(outF * inF), b(outF), out(N * outF);
        rng.fill(x);
        rng.fill(w);
        rng.fill(b);
        const bool use_b = (seed & 1) != 0;
        CHECK(linear(N, inF, outF, x.data(), w.data(), use_b ? b.data() : nullptr, out.data()) == Status::kOk);
        for (size_t i = 0; i < N; ++i)
          for (size_t o = 0; o < outF; ++o) {
            double r = use_b ? b[o] : 0.0, a = use_b ? std::fabs(b[o]) : 0.0;
            for (size_t k = 0; k < inF; ++k) r += double(x[i * inF + k]) * w[o * inF + k], a += std::fabs(double(x[i * inF + k]) * w[o * inF + k]);
            if (!within(out[i * outF + o], r, a, inF)) ++bad;
          }
        // matmul with a = x [N, inF], b = a [inF, outF] view of w.
        std::vector<float> mo(N * outF);
        CHECK(matmul(N, inF, outF, x.data(), w.data(), mo.data()) == Status::kOk);
        for (size_t i = 0; i < N; ++i)
          for (size_t j = 0; j < outF; ++j) {
            double r = 0, a = 0;
            for (size_t k = 0; k < inF; ++k) r += double(x[i * inF + k]) * w[k * outF + j], a += std::fabs(double(x[i * inF + k]) * w[k * outF + j]);
            if (!within(mo[i * outF + j], r, a, inF)) ++bad;
          }
      }
  CHECK(bad == 0);
}

}  // namespace
}  // namespace simdcnn
