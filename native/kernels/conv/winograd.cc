// Winograd F(4x4,3x3) driver: validation, weight transform, tile blocking, threading and per-ISA
// dispatch of the transforms (see winograd.h; the transforms are in winograd_impl.h).
#include "kernels/conv/winograd.h"

#include <algorithm>
#include <atomic>

#include <cstdint>
#include <cstring>

#include "core/dispatch.h"
#include "core/scratch.h"
#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/act/unary.h"
#include "kernels/conv/panel_gemm.h"
#include "kernels/gemm/gemm.h"

namespace simdcnn {
namespace {

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr WinogradInFn kInput[] = {winograd_input_scalar, winograd_input_avx2, winograd_input_avx512,
                                   winograd_input_scalar};
constexpr WinogradOutFn kOutput[] = {winograd_output_scalar, winograd_output_avx2, winograd_output_avx512,
                                     winograd_output_scalar};
#elif SIMDCNN_ARM64
constexpr WinogradInFn kInput[] = {winograd_input_scalar, winograd_input_scalar, winograd_input_scalar,
                                   winograd_input_neon};
constexpr WinogradOutFn kOutput[] = {winograd_output_scalar, winograd_output_scalar, winograd_output_scalar,
                                     winograd_output_neon};
#else
constexpr WinogradInFn kInput[] = {winograd_input_scalar, winograd_input_scalar, winograd_input_scalar,
                                   winograd_input_scalar};
constexpr WinogradOutFn kOutput[] = {winograd_output_scalar, winograd_output_scalar, winograd_output_scalar,
                                     winograd_output_scalar};
#endif

// G of winograd.h, exact in double up to the rounding of 1/3 and 1/15.
constexpr double kG4[6][3] = {{1.0, 0.0, 0.0},
                              {1.0 / 3, 1.0 / 3, 1.0 / 3},
                              {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                              {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                              {1.0 / 15, -2.0 / 15, 4.0 / 15},
                              {0.0, 0.0, 1.0}};
// G of F(2x2,3x3) (winograd_impl.h).
constexpr double kG2[4][3] = {{1.0, 0.0, 0.0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0.0, 0.0, 1.0}};

// Elements of a transformed (m+2)x(m+2) tile: one GEMM each.
constexpr size_t elems_of(int m) { return static_cast<size_t>((m + 2) * (m + 2)); }

// u starts with a header so that weights made for another layer, ISA or tile size are rejected
// instead of silently misread.
constexpr size_t kHeaderFloats = 16;
constexpr int32_t kMagic = 0x47574353;  // "SCWG"

void header_fields(const Conv2dParams& p, Isa isa, int m, int32_t f[8]) {
  f[0] = kMagic;
  f[1] = static_cast<int32_t>(isa);
  f[2] = static_cast<int32_t>(p.outC);
  f[3] = static_cast<int32_t>(p.C);
  f[4] = m;
  f[5] = f[6] = f[7] = 0;
}

// V and M of one task's block. Blocks small enough for the 1 MiB L2 measured slower (the GEMMs get
// fewer columns per call and the transforms stream anyway); the budget only bounds the per-call
// scratch, whose pages are re-faulted whenever glibc hands a large buffer back to the system.
constexpr size_t kBlockBudgetBytes = size_t{2} << 20;
// A tile range per thread (instead of splitting each block's phases) once each thread gets this
// many tiles. With the panel GEMMs, 2 threads, warm caches: 64@56 (196 tiles) 229 us by tiles vs
// 233 by phases; 128@28 (49 tiles) 256 vs 218; 256@14 as F(2x2) (49 tiles) 402 vs 339: splitting
// by tiles makes each thread stream all the transformed weights for half the GEMM columns.
constexpr size_t kMinTilesPerPart = 64;

// The transforms touch all 36 planes of V and M at once. Planes a multiple of 4 KiB apart (any
// channel count that is a multiple of 16) would share one L1 set and evict each other: one cache
// line of padding per plane spreads them over 36 sets.
constexpr size_t kPlanePad = 16;

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

struct Ctx {
  const Conv2dParams* p;
  int m;           // output tile size
  size_t E;        // elements per transformed tile (GEMMs)
  size_t PF;       // floats of one packed U[e]
  size_t OH, OW, TW, T;
  const float* x;
  const float* bias;
  const float* residual;
  float* out;
  const float* u;  // E packed U[e], PF floats apart
  WinogradInFn input;
  WinogradOutFn output;
  size_t tb;  // tiles per block
};

// Block size for a range of `tiles` tiles: equal blocks of at most ctx.tb, rounded up to the GEMM's
// 16-column steps where that does not add a block.
size_t block_size(const Ctx& ctx, size_t tiles) {
  const size_t nb = (tiles + ctx.tb - 1) / ctx.tb;
  return std::min(ctx.tb, round_up((tiles + nb - 1) / nb, 16));
}

// Scratch floats run_range needs for a range of `tiles` tiles: V and M of one block.
size_t range_scratch(const Ctx& ctx, size_t tiles) {
  const size_t ld = round_up(std::min(block_size(ctx, tiles), tiles), 16);
  return ctx.E * ((ctx.p->C + ctx.p->outC) * ld + 2 * kPlanePad);
}

// Tiles [ta, tz) of image n, in blocks, with range_scratch(ctx, tz - ta) floats at work.
// `threads`: split each phase of a block across the pool (input over channels, the 36 GEMMs,
// output over output channels).
Status run_range(const Ctx& ctx, size_t n, size_t ta, size_t tz, float* work, bool threads) {
  const Conv2dParams& p = *ctx.p;
  const size_t C = p.C, K = p.outC;
  const size_t bsz = block_size(ctx, tz - ta);
  const float* xn = ctx.x + n * C * p.H * p.W;
  const size_t plane = ctx.OH * ctx.OW;
  float* on = ctx.out + n * K * plane;
  const float* rn = ctx.residual ? ctx.residual + n * K * plane : nullptr;

  for (size_t t0 = ta; t0 < tz; t0 += bsz) {
    const size_t t1 = std::min(tz, t0 + bsz), nt = t1 - t0, ld = round_up(nt, 16);
    const size_t ve = C * ld + kPlanePad, me = K * ld + kPlanePad;
    float* V = work;
    float* M = V + ctx.E * ve;
    WinogradInArgs in{ctx.m, xn, p.H, p.W, p.padTop, p.padLeft, ctx.TW, 0, C, t0, t1, V, ld, ve};
    WinogradOutArgs oa{ctx.m, M, ld, me, ctx.TW, ctx.OH, ctx.OW, 0, K, t0, t1, ctx.bias, rn, on, p.act == 1};
    std::atomic<bool> failed{false};
    auto gemms = [&](size_t e0, size_t e1) {
      // M[e]^T = V[e]^T U[e]^T: the block's tiles are the panel microkernel's pixels.
      ScratchBuffer gw;
      if (!gw.reserve(panel_gemm_work_floats(nt, C))) {
        failed.store(true, std::memory_order_relaxed);
        return;
      }
      for (size_t e = e0; e < e1; ++e) panel_gemm(V + e * ve, ld, nt, C, ctx.u + e * ctx.PF, K, M + e * me, ld, gw.data());
    };
    if (!threads) {
      ctx.input(in);
      gemms(0, ctx.E);
      ctx.output(oa);
    } else {
      // Chunks of at least ~64K floats of V or output: waking a pool worker costs 10-30 us.
      const size_t grain = std::max<size_t>(1, (size_t{1} << 16) / (ctx.E * ld));
      parallel_for(C, grain, [&](size_t c0, size_t c1) {
        WinogradInArgs a = in;
        a.c0 = c0;
        a.c1 = c1;
        ctx.input(a);
      });
      parallel_for(ctx.E, 1, [&](size_t e0, size_t e1) { gemms(e0, e1); });
      parallel_for(K, grain, [&](size_t k0, size_t k1) {
        WinogradOutArgs a = oa;
        a.oc0 = k0;
        a.oc1 = k1;
        ctx.output(a);
      });
    }
    if (failed.load()) return Status::kOutOfMemory;
  }
  return Status::kOk;
}

// Tiles per block: V and M of a block within kBlockBudgetBytes, or within the size of the
// transformed weights when those are larger (every block streams all of them through the GEMMs, so
// smaller blocks would trade cache misses on V and M for more misses on the weights).
size_t auto_tile_block(const Conv2dParams& p, size_t E) {
  const double per_tile = static_cast<double>(E * sizeof(float)) * static_cast<double>(p.C + p.outC);
  const double weights = static_cast<double>(E * sizeof(float)) * static_cast<double>(p.C) *
                         static_cast<double>(p.outC);
  const double tiles = std::max(static_cast<double>(kBlockBudgetBytes), weights) / per_tile;
  return std::max<size_t>(16, static_cast<size_t>(std::min(tiles, 1e9)) / 16 * 16);
}

}  // namespace

bool winograd_applicable(const Conv2dParams& p) {
  size_t oh = 0, ow = 0;
  return conv2d_output_size(p, &oh, &ow) && p.kH == 3 && p.kW == 3 && p.strideH == 1 && p.strideW == 1 &&
         p.dilationH == 1 && p.dilationW == 1 && p.groups == 1;
}

namespace {
double tiles_of(const Conv2dParams& p, int m) {
  size_t oh = 0, ow = 0;
  conv2d_output_size(p, &oh, &ow);
  const size_t mm = static_cast<size_t>(m);
  return static_cast<double>((oh + mm - 1) / mm) * static_cast<double>((ow + mm - 1) / mm);
}
}  // namespace

int winograd_tile_size(const Conv2dParams& p) {
  if (!winograd_applicable(p)) return 0;
  return tiles_of(p, 4) >= 36 ? 4 : 2;
}

// F(4x4) measured (Release, N = 1, 1 and 2 threads, against conv2d with bias + ReLU fused): with
// >= 16 tiles (a 13x13 or larger output), both channel counts >= 16 and C*outC*tiles >= 40000,
// Winograd is 1.8-2.6x faster with warm caches (64 -> 64 at 56x56 2.5x, 128 -> 128 at 28x28 2.3x,
// 256 -> 256 at 14x14 1.8x, 16 -> 16 at 56x56 1.8x; AVX2 and scalar 1.2-2.4x) and still 1.2-2.1x
// with the weights cold. Below that the transforms and the small GEMMs cost about what they save
// (16 -> 16 at 28x28: 1.06x, 3 -> 64 at 224x224: 1.07x). Against the packed direct convolution
// of planned inference (conv2d_packed.h, ~90% of peak) the margin is smaller: 64@56 2.2x and
// 128@28 2.0x, but 256@14 (16 tiles) only 1.5x with warm caches and no faster inside a ResNet-18
// forward, where its 9.4 MB of transformed weights come from DRAM. So F(4x4) from 36 tiles (a
// 21x21 or larger output), and F(2x2) below that while it has at least 36 of its 2x2 tiles (an 11x11
// or larger output): 256@14 has 49, its transformed weights are 4.2 MB, and see winograd_tile_size.
bool winograd_preferred(const Conv2dParams& p) {
  const int m = winograd_tile_size(p);
  if (m == 0 || p.C < 16 || p.outC < 16) return false;
  const double tiles = tiles_of(p, m);
  return tiles >= 36 && static_cast<double>(p.C) * static_cast<double>(p.outC) * tiles >= 40000.0;
}

size_t winograd_weights_size(const Conv2dParams& p, int m) {
  if (!winograd_applicable(p)) return 0;
  if (m == 0) m = winograd_tile_size(p);
  if (m != 2 && m != 4) return 0;
  const size_t pf = panel_floats(p.C, p.outC);
  int64_t total = 0;
  if (pf == 0 || !checked_mul(static_cast<int64_t>(pf), static_cast<int64_t>(elems_of(m)), &total) ||
      total > kMaxElements - static_cast<int64_t>(kHeaderFloats))
    return 0;
  return static_cast<size_t>(total) + kHeaderFloats;
}

Status winograd_weights(const Conv2dParams& p, const float* w, float* u, int m) {
  if (m == 0) m = winograd_tile_size(p);
  if (winograd_weights_size(p, m) == 0 || !w || !u) return Status::kInvalidArgument;
  const size_t outC = p.outC, C = p.C, a = static_cast<size_t>(m) + 2, E = a * a;
  // U[e] row-major [outC, C] first (in one scratch buffer), then packed into panels.
  ScratchBuffer raw;
  if (!raw.reserve(E * outC * C)) return Status::kOutOfMemory;
  float* r = raw.data();
  const size_t pairs = outC * C;
  parallel_for(pairs, 256, [&](size_t b, size_t e) {
    for (size_t pc = b; pc < e; ++pc) {
      const float* g = w + pc * 9;
      double tmp[6][3];  // G g
      for (size_t i = 0; i < a; ++i)
        for (int c = 0; c < 3; ++c) {
          const double* gi = m == 4 ? kG4[i] : kG2[i];
          tmp[i][c] = gi[0] * g[c] + gi[1] * g[3 + c] + gi[2] * g[6 + c];
        }
      for (size_t i = 0; i < a; ++i)
        for (size_t j = 0; j < a; ++j) {
          const double* gj = m == 4 ? kG4[j] : kG2[j];
          r[(a * i + j) * pairs + pc] = static_cast<float>(tmp[i][0] * gj[0] + tmp[i][1] * gj[1] + tmp[i][2] * gj[2]);
        }
    }
  });
  int32_t f[8];
  header_fields(p, active_isa(), m, f);
  std::memset(u, 0, kHeaderFloats * sizeof(float));
  std::memcpy(u, f, sizeof(f));
  const size_t pf = panel_floats(C, outC);
  parallel_for(E, 1, [&](size_t e0, size_t e1) {
    for (size_t e = e0; e < e1; ++e) pack_panels(r + e * pairs, C, C, outC, u + kHeaderFloats + e * pf);
  });
  return Status::kOk;
}

int winograd_weights_tile(const Conv2dParams& p, const float* u) {
  if (!u) return 0;
  int32_t got[8];
  std::memcpy(got, u, sizeof(got));
  const int m = got[4];
  if (m != 2 && m != 4) return 0;
  int32_t want[8];
  header_fields(p, active_isa(), m, want);
  return std::memcmp(want, got, sizeof(want)) == 0 ? m : 0;
}

float winograd_weight_at(const Conv2dParams& p, const float* u, size_t e, size_t oc, size_t c) {
  return panel_element(u + kHeaderFloats + e * panel_floats(p.C, p.outC), p.C, p.outC, oc, c);
}

namespace {
Status winograd_relu_epilogue(const Conv2dParams& p, const float* x, const float* u, const float* bias,
                              const float* residual, float* out, const WinogradTuning& tuning) {
  const int m = winograd_weights_tile(p, u);
  if (m == 0) return Status::kInvalidArgument;
  size_t OH = 0, OW = 0;
  conv2d_output_size(p, &OH, &OW);
  const int isa = static_cast<int>(active_isa());
  const size_t mm = static_cast<size_t>(m);

  Ctx ctx;
  ctx.p = &p;
  ctx.m = m;
  ctx.E = elems_of(m);
  ctx.PF = panel_floats(p.C, p.outC);
  ctx.OH = OH;
  ctx.OW = OW;
  ctx.TW = (OW + mm - 1) / mm;
  ctx.T = ((OH + mm - 1) / mm) * ctx.TW;
  ctx.x = x;
  ctx.bias = bias;
  ctx.residual = residual;
  ctx.out = out;
  ctx.u = u + kHeaderFloats;
  ctx.input = kInput[(isa >= 0 && isa < 4) ? isa : 0];
  ctx.output = kOutput[(isa >= 0 && isa < 4) ? isa : 0];
  ctx.tb = tuning.tile_block ? tuning.tile_block : auto_tile_block(p, ctx.E);

  const size_t T = ctx.T, N = p.N;
  size_t threads = static_cast<size_t>(std::max(1, num_threads()));
  const double macs = static_cast<double>(ctx.E) * static_cast<double>(p.outC) * static_cast<double>(p.C) *
                      static_cast<double>(T) * static_cast<double>(N);
  if (macs < static_cast<double>(kGemmThreadingThreshold)) threads = 1;  // a wake-up costs more
  // With enough tiles each thread takes a tile range of every image: one pool wake-up per call and
  // no barriers. With few tiles (late layers: 16 at 14x14) each thread would stream all the
  // transformed weights for a handful of GEMM columns, so the phases of each image are split
  // instead (input over channels, the 36 GEMMs, output over output channels).
  const bool split_tiles =
      threads > 1 && (tuning.mode == 2 || (tuning.mode == 0 && T >= kMinTilesPerPart * threads));
  const size_t parts = split_tiles ? std::min(threads, T) : 1;
  const bool per_task = threads > 1 && tuning.mode != 1 && (parts > 1 || N >= threads);
  const size_t slots = per_task ? threads : 1;
  // All scratch in one allocation made here, on the calling thread: large buffers freed on pool
  // threads (other malloc arenas) were partly handed back to the system and re-faulted every call.
  const size_t slot = std::max(range_scratch(ctx, T / parts), range_scratch(ctx, (T + parts - 1) / parts));
  ScratchBuffer scratch;
  if (slot > SIZE_MAX / sizeof(float) / slots || !scratch.reserve(slot * slots)) return Status::kOutOfMemory;
  if (!per_task) {
    for (size_t n = 0; n < N; ++n) {
      const Status s = run_range(ctx, n, 0, T, scratch.data(), threads > 1);
      if (s != Status::kOk) return s;
    }
    return Status::kOk;
  }
  // Task k (one scratch slot each) takes items [items*k/slots, items*(k+1)/slots) of the (image,
  // tile range) items.
  const size_t items = N * parts;
  std::atomic<bool> failed{false};
  parallel_for(slots, 1, [&](size_t b, size_t e) {
    for (size_t k = b; k < e; ++k)
      for (size_t it = items * k / slots; it < items * (k + 1) / slots; ++it) {
        const size_t n = it / parts, part = it % parts;
        const size_t ta = T * part / parts, tz = T * (part + 1) / parts;
        if (ta < tz && run_range(ctx, n, ta, tz, scratch.data() + k * slot, false) != Status::kOk)
          failed.store(true, std::memory_order_relaxed);
      }
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}
}  // namespace

// ReLU is applied by the output transform; other activations (rare after a 3x3 stride-1
// convolution) in one pass over the finished output, as tiles of several threads share rows.
Status conv2d_winograd_tuned(const Conv2dParams& p, const float* x, const float* u, const float* bias,
                             const float* residual, float* out, const WinogradTuning& tuning) {
  if (!winograd_applicable(p) || !x || !u || !out) return Status::kInvalidArgument;
  const Status s = winograd_relu_epilogue(p, x, u, bias, residual, out, tuning);
  if (s != Status::kOk || p.act <= 1) return s;
  size_t OH = 0, OW = 0;
  conv2d_output_size(p, &OH, &OW);
  parallel_for(p.N * p.outC * OH * OW, size_t{1} << 15, [&](size_t b, size_t e) {
    apply_act(p.act, p.act_alpha, p.act_beta, out + b, e - b);
  });
  return Status::kOk;
}

Status conv2d_winograd(const Conv2dParams& p, const float* x, const float* u, const float* bias,
                       const float* residual, float* out) {
  return conv2d_winograd_tuned(p, x, u, bias, residual, out, WinogradTuning{});
}

}  // namespace simdcnn
