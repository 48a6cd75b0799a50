// conv2d_packed driver: weight packing, padded input slabs, blocking, threading, dispatch (see
// conv2d_packed.h for the scheme).
#include "kernels/conv/conv2d_packed.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/dispatch.h"
#include "core/scratch.h"
#include "core/shape.h"
#include "core/thread_pool.h"
#include "kernels/act/unary.h"
#include "kernels/conv/conv2d_packed_ukernel.h"
#include "kernels/conv/panel_gemm.h"

namespace simdcnn {
namespace {

using TileConfig = PanelTileConfig;

constexpr size_t kMaxMpBlock = 32;  // run_task keeps a pixel block's window origins on the stack

const TileConfig& active_config(Isa* isa_out = nullptr) { return panel_tile_config(isa_out); }

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// The packed buffer starts with a header so that weights packed for another layer or ISA are
// rejected instead of silently misread.
constexpr size_t kHeaderFloats = 16;
constexpr int32_t kMagic = 0x4B504353;  // "SCPK"

void header_fields(const Conv2dParams& p, Isa isa, int32_t f[8]) {
  f[0] = kMagic;
  f[1] = static_cast<int32_t>(isa);
  f[2] = static_cast<int32_t>(p.outC);
  f[3] = static_cast<int32_t>(p.C);
  f[4] = static_cast<int32_t>(p.kH);
  f[5] = static_cast<int32_t>(p.kW);
  f[6] = static_cast<int32_t>(p.groups);
  f[7] = 0;
}

bool valid_params(const Conv2dParams& p, size_t* oh, size_t* ow) { return conv2d_output_size(p, oh, ow); }

// Floats of one group's panels: Kg * round_up(Mg, vs) (Kg = C/groups*kH*kW, Mg = outC/groups), 0
// when it would not fit the element limit.
size_t group_floats(const Conv2dParams& p) {
  int64_t k = 0;
  const int64_t dims[3] = {static_cast<int64_t>(p.C / p.groups), static_cast<int64_t>(p.kH),
                           static_cast<int64_t>(p.kW)};
  if (!checked_product(dims, 3, &k)) return 0;
  return panel_floats(static_cast<size_t>(k), p.outC / p.groups);
}

// groups * group_floats + header, or 0 when it would not fit the element limit.
size_t packed_floats(const Conv2dParams& p) {
  const size_t per_group = group_floats(p);
  if (per_group == 0 || per_group > (static_cast<size_t>(kMaxElements) - kHeaderFloats) / p.groups) return 0;
  return per_group * p.groups + kHeaderFloats;
}

// A grouped layer is groups independent convolutions of C/groups -> outC/groups channels, and in
// NCHW group g of image n is the contiguous block u = n*groups + g of both x and out (and
// residual): so the drivers run a groups-1 convolution over N*groups "units" of C/groups channels,
// unit u with its group's panels and bias.
struct Groups {
  size_t count;           // groups
  size_t panel_stride;    // floats between groups' panels
  size_t bias_stride;     // outC / groups
};

Conv2dParams unit_params(const Conv2dParams& p) {
  Conv2dParams u = p;
  u.N = p.N * p.groups;
  u.C = p.C / p.groups;
  u.outC = p.outC / p.groups;
  u.groups = 1;
  return u;
}

// With padding the tiles read a zero-padded copy of just the input rows their pixel block needs (a
// slab, [C, slab_h, Wp]), made by the task itself: no whole padded image, no extra pass over
// memory, and the copy is warm in cache when the tiles read it.
struct Plan {
  const TileConfig* cfg;
  size_t K, OH, OW, OHW;
  bool slab;                // read a padded slab (else x in place: no padding)
  size_t Wp, slab_h;        // slab row width and rows per channel (or W and H when reading x)
  size_t n_mp, mp_per_block, n_pb;  // tiles, tiles per pixel block, pixel blocks
  size_t n_np, np_per_block, n_cb;  // channel panels, panels per channel block, channel blocks
  size_t kc, n_kb;
  const int64_t* offs;  // [K]: (c*slab_h + kh*dH)*Wp + kw*dW
};

// Output rows [oh_a, oh_b] hold the pixels of tiles [mp0, mp1).
void block_rows(const Plan& pl, size_t mp0, size_t mp1, size_t* oh_a, size_t* oh_b) {
  const size_t mr = pl.cfg->mr;
  *oh_a = mp0 * mr / pl.OW;
  *oh_b = (std::min(mp1 * mr, pl.OHW) - 1) / pl.OW;
}

// offs[k] for every tap k = (c, kh, kw) of the weights' order: its offset from a window origin in an
// input (or slab) of rows Wp floats wide and slab_h rows per channel. Kept in int64 (two floats of
// a float scratch buffer each).
void fill_tap_offsets(const Conv2dParams& p, size_t slab_h, size_t Wp, int64_t* offs) {
  for (size_t c = 0, k = 0; c < p.C; ++c)
    for (size_t kh = 0; kh < p.kH; ++kh)
      for (size_t kw = 0; kw < p.kW; ++kw, ++k)
        offs[k] = static_cast<int64_t>((c * slab_h + kh * p.dilationH) * Wp + kw * p.dilationW);
}

// Padded rows [y0, y0 + rows) of every channel of image xn into slab (channel stride slab_h*Wp).
void fill_slab(const Plan& pl, const Conv2dParams& p, const float* xn, size_t y0, size_t rows, float* slab) {
  for (size_t c = 0; c < p.C; ++c)
    for (size_t r = 0; r < rows; ++r) {
      float* d = slab + (c * pl.slab_h + r) * pl.Wp;
      const size_t y = y0 + r;
      if (y < p.padTop || y >= p.padTop + p.H) {
        std::memset(d, 0, pl.Wp * sizeof(float));
        continue;
      }
      const float* src = xn + (c * p.H + (y - p.padTop)) * p.W;
      for (size_t i = 0; i < p.padLeft; ++i) d[i] = 0.0f;
      std::memcpy(d + p.padLeft, src, p.W * sizeof(float));
      for (size_t i = p.padLeft + p.W; i < pl.Wp; ++i) d[i] = 0.0f;
    }
}

// One task: channel block cb x pixel block pb of image xn, all K blocks. slab: C*slab_h*Wp floats
// (when pl.slab), filled unless it already holds this image's pixel block (fill false); partial:
// mp_per_block * mr * nr floats (when K has several blocks). Loop order: panel, K block, tile. A
// K block's kc x nr weights stay in L1 while the block's tiles sweep over them, and a panel's
// weights (K x nr, contiguous) are read front to back, one stream from memory; the block's input
// rows stay in L1/L2 across panels.
void run_task(const Plan& pl, const Conv2dParams& p, const float* xn, const float* packed, const float* bias,
              const float* residual_n, float* out_n, size_t cb, size_t pb, float* slab, bool fill, float* partial) {
  const TileConfig& cfg = *pl.cfg;
  const size_t mr = cfg.mr;
  const size_t mp0 = pb * pl.mp_per_block, mp1 = std::min(pl.n_mp, mp0 + pl.mp_per_block);
  const size_t np0 = cb * pl.np_per_block, np1 = std::min(pl.n_np, np0 + pl.np_per_block);

  size_t oh_a = 0, oh_b = 0;
  block_rows(pl, mp0, mp1, &oh_a, &oh_b);
  const float* base = xn;  // window origin of output pixel (oh_origin, 0)
  size_t oh_origin = 0;
  if (pl.slab) {
    const size_t rows = (oh_b - oh_a) * p.strideH + (p.kH - 1) * p.dilationH + 1;
    if (fill) fill_slab(pl, p, xn, oh_a * p.strideH, rows, slab);
    base = slab;
    oh_origin = oh_a;
  }
  // Window origins of every pixel in the block (pixels past OHW repeat the last one).
  const float* rows[kMaxMpBlock * kConvPackedMaxMr];
  {
    const size_t p_begin = mp0 * mr, p_end = mp1 * mr;
    size_t oh = p_begin / pl.OW, ow = p_begin % pl.OW, n = 0;
    const float* last = base;
    for (size_t q = p_begin; q < p_end; ++q) {
      if (q < pl.OHW) {
        last = base + (oh - oh_origin) * p.strideH * pl.Wp + ow * p.strideW;
        if (++ow == pl.OW) ow = 0, ++oh;
      }
      rows[n++] = last;
    }
  }

  ConvTileArgs t;
  t.ohw = pl.OHW;
  const ActClamp clamp = act_clamp(p.act, p.act_alpha, p.act_beta);
  t.clamp = clamp.on;
  t.lo = clamp.lo;
  t.hi = clamp.hi;
  const size_t tile_floats = mr * cfg.nr;
  for (size_t np = np0; np < np1; ++np) {
    const size_t c0 = np * cfg.nr;
    t.w = std::min(cfg.nr, p.outC - c0);
    t.nr = std::min(cfg.nr, round_up(t.w, cfg.vs));
    t.bias = bias ? bias + c0 : nullptr;
    const float* panel = packed + c0 * pl.K;
    for (size_t kb = 0; kb < pl.n_kb; ++kb) {
      const size_t k0 = kb * pl.kc;
      t.kc = std::min(pl.kc, pl.K - k0);
      t.offs = pl.offs + k0;
      t.b = panel + k0 * t.nr;
      t.first = kb == 0;
      t.last = kb + 1 == pl.n_kb;
      // The next K block (or the next panel's first) follows this one in memory: its lines go to
      // L2 spread over this block's first tiles, kc lines per tile.
      const float* next = t.b + t.kc * t.nr;
      const size_t next_floats = t.kc * t.nr;
      for (size_t mp = mp0; mp < mp1; ++mp) {
        const size_t p0 = mp * mr;
        const size_t pf_at = (mp - mp0) * t.kc * 16;
        t.pf = pf_at < next_floats ? next + pf_at : nullptr;
        t.rows = rows + (mp - mp0) * mr;
        t.acc = partial + (mp - mp0) * tile_floats;
        t.h = std::min(mr, pl.OHW - p0);
        t.out = out_n + c0 * pl.OHW + p0;
        t.residual = residual_n ? residual_n + c0 * pl.OHW + p0 : nullptr;
        cfg.fn(t);
      }
    }
  }
  if (p.act != 0 && !clamp.on) {  // ReLU and Clip are the tile's clamp; other activations over the finished block
    const size_t q0 = mp0 * mr, q1 = std::min(pl.OHW, mp1 * mr);
    for (size_t c = np0 * cfg.nr, c1 = std::min(p.outC, np1 * cfg.nr); c < c1; ++c)
      apply_act(p.act, p.act_alpha, p.act_beta, out_n + c * pl.OHW + q0, q1 - q0);
  }
}

}  // namespace

size_t conv2d_packed_size(const Conv2dParams& p) {
  size_t oh = 0, ow = 0;
  if (!valid_params(p, &oh, &ow)) return 0;
  return packed_floats(p);
}

Status conv2d_pack_weights(const Conv2dParams& p, const float* w, float* packed) {
  size_t oh = 0, ow = 0;
  if (!valid_params(p, &oh, &ow) || !w || !packed) return Status::kInvalidArgument;
  Isa isa;
  active_config(&isa);
  if (packed_floats(p) == 0) return Status::kInvalidArgument;
  int32_t f[8];
  header_fields(p, isa, f);
  std::memset(packed, 0, kHeaderFloats * sizeof(float));
  std::memcpy(packed, f, sizeof(f));
  const size_t K = p.C / p.groups * p.kH * p.kW, Mg = p.outC / p.groups, stride = group_floats(p);
  for (size_t g = 0; g < p.groups; ++g) pack_panels(w + g * Mg * K, K, K, Mg, packed + kHeaderFloats + g * stride);
  return Status::kOk;
}

bool conv2d_packed_matches(const Conv2dParams& p, const float* packed) {
  if (!packed) return false;
  int32_t want[8], got[8];
  header_fields(p, active_isa(), want);
  std::memcpy(got, packed, sizeof(got));
  return std::memcmp(want, got, sizeof(want)) == 0;
}

namespace {

// Indexed by Isa, like the tile configs.
#if SIMDCNN_X86
constexpr ConvRowFn kRowFns[] = {conv_packed_row_scalar, conv_packed_row_avx2, conv_packed_row_avx512,
                                 conv_packed_row_scalar};
#elif SIMDCNN_ARM64
constexpr ConvRowFn kRowFns[] = {conv_packed_row_scalar, conv_packed_row_scalar, conv_packed_row_scalar,
                                 conv_packed_row_neon};
#else
constexpr ConvRowFn kRowFns[] = {conv_packed_row_scalar, conv_packed_row_scalar, conv_packed_row_scalar,
                                 conv_packed_row_scalar};
#endif

constexpr size_t kRowTaskPixels = 1024;
constexpr size_t kRowSlabFloats = size_t{1} << 15;  // 128 KB: in L2 with the task's output

// Indexed by Isa, like kRowFns.
#if SIMDCNN_X86
constexpr EvenGatherFn kEvenGatherFns[] = {gather_even_scalar, gather_even_avx2, gather_even_avx512,
                                           gather_even_scalar};
#elif SIMDCNN_ARM64
constexpr EvenGatherFn kEvenGatherFns[] = {gather_even_scalar, gather_even_scalar, gather_even_scalar,
                                           gather_even_neon};
#else
constexpr EvenGatherFn kEvenGatherFns[] = {gather_even_scalar, gather_even_scalar, gather_even_scalar,
                                           gather_even_scalar};
#endif

// Pixels per row-kernel step (its vector loop), indexed by Isa like kRowFns.
constexpr size_t kRowStep[] = {1, 8, 32, 4};

// The row kernels' input: per task a zero-padded copy of the task's input rows, split by stride
// phase. Padded input element (y, x) of the task (y counted from the task's first window row) lives
// in plane (c, y % sH, x % sW) at row y / sH, column x / sW, so output pixel (r, ow) of the task
// reads tap (kh, kw) at one offset from its origin r*Wph + ow in every stride: consecutive output
// pixels are consecutive floats (the row kernels' vectors), rows Wph apart.
struct PhaseSlab {
  size_t PH, PW;    // phases a tap can fall in: min(stride, dilated kernel extent) per axis
  size_t Hph, Wph;  // rows and columns of a plane
  size_t plane_floats() const { return Hph * Wph; }
};

// The row driver's blocking: the slab geometry and the task size.
struct RowPlan {
  PhaseSlab ps;
  size_t rows_per_task, tasks_per_img;
  size_t slab_floats;  // C * PH * PW * Hph * Wph
  bool wide;
  size_t wide_n;  // pixels of a full task's wide line
};

// offs[k] of tap (c, kh, kw) in a PhaseSlab.
void fill_phase_offsets(const Conv2dParams& p, const PhaseSlab& ps, int64_t* offs) {
  for (size_t c = 0, k = 0; c < p.C; ++c)
    for (size_t kh = 0; kh < p.kH; ++kh)
      for (size_t kw = 0; kw < p.kW; ++kw, ++k) {
        const size_t ty = kh * p.dilationH, tx = kw * p.dilationW;
        const size_t plane = (c * ps.PH + ty % p.strideH) * ps.PW + tx % p.strideW;
        offs[k] = static_cast<int64_t>((plane * ps.Hph + ty / p.strideH) * ps.Wph + tx / p.strideW);
      }
}

// dst[0..n) = src[0..n) (not overlapping) in fixed-size blocks the compiler inlines, the last one
// overlapping its predecessor: slab and output rows are short (7-112 floats) and there are
// thousands per layer, so a memcpy call per row cost more than the copy itself (a 7x7 layer's
// wide output rows: a third of its time).
inline void copy_floats(float* dst, const float* src, size_t n) {
  const auto blocks = [&](auto width) {
    constexpr size_t w = decltype(width)::value;
    for (size_t i = 0; i + w < n; i += w) __builtin_memcpy(dst + i, src + i, w * sizeof(float));
    __builtin_memcpy(dst + n - w, src + n - w, w * sizeof(float));
  };
  if (n >= 16) {
    blocks(std::integral_constant<size_t, 16>{});
  } else if (n >= 8) {
    blocks(std::integral_constant<size_t, 8>{});
  } else if (n >= 4) {
    blocks(std::integral_constant<size_t, 4>{});
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// Columns q of phase px that lie inside the input (padLeft <= q*sW + px < padLeft + W): [q0, q1),
// q0 at input column `first`.
struct PhaseCols {
  size_t q0, q1, first;
};
PhaseCols phase_cols(const Conv2dParams& p, const PhaseSlab& ps, size_t px) {
  const size_t sW = p.strideW;
  PhaseCols pc;
  pc.q0 = std::min(ps.Wph, p.padLeft > px ? (p.padLeft - px + sW - 1) / sW : 0);
  pc.q1 = std::max(pc.q0, std::min(ps.Wph, (p.padLeft + p.W - px + sW - 1) / sW));
  pc.first = pc.q0 * sW + px - p.padLeft;
  return pc;
}

// The PhaseSlab of image xn for output rows starting at oh0 (padded input rows from oh0*sH). The
// input rows are read once each, in order (row y feeds plane row y / sH of every column phase).
void fill_phase_slab(const Conv2dParams& p, const PhaseSlab& ps, const float* xn, size_t oh0, float* slab) {
  const size_t sH = p.strideH, sW = p.strideW;
  const int isa = static_cast<int>(active_isa());
  const EvenGatherFn gather_even = kEvenGatherFns[(isa >= 0 && isa < 4) ? isa : 0];
  // The column ranges per phase, computed once (no division per row: a layer has thousands of
  // slab rows); phases past kMaxPhases (strides wider than 64 with kernels wider than 64) are
  // computed per row.
  constexpr size_t kMaxPhases = 64;
  PhaseCols cols[kMaxPhases];
  for (size_t px = 0; px < std::min(ps.PW, kMaxPhases); ++px) cols[px] = phase_cols(p, ps, px);
  for (size_t c = 0; c < p.C; ++c)
    for (size_t r = 0; r < ps.Hph; ++r)
      for (size_t py = 0; py < ps.PH; ++py) {
        const size_t y = (oh0 + r) * sH + py;  // padded row
        const bool inside = y >= p.padTop && y < p.padTop + p.H;
        const float* src = inside ? xn + (c * p.H + (y - p.padTop)) * p.W : nullptr;
        for (size_t px = 0; px < ps.PW; ++px) {
          float* d = slab + ((c * ps.PH + py) * ps.PW + px) * ps.plane_floats() + r * ps.Wph;
          if (!inside) {
            std::memset(d, 0, ps.Wph * sizeof(float));
            continue;
          }
          const PhaseCols pc = px < kMaxPhases ? cols[px] : phase_cols(p, ps, px);
          const float* s0 = src + pc.first;
          for (size_t q = 0; q < pc.q0; ++q) d[q] = 0.0f;
          if (sW == 1) {
            copy_floats(d + pc.q0, s0, pc.q1 - pc.q0);
          } else if (sW == 2) {
            gather_even(d + pc.q0, s0, pc.q1 - pc.q0);
          } else {
            for (size_t q = pc.q0; q < pc.q1; ++q) d[q] = s0[(q - pc.q0) * sW];
          }
          for (size_t q = pc.q1; q < ps.Wph; ++q) d[q] = 0.0f;
        }
      }
}

// The RowPlan of a unit; false when its slab would not fit kMaxElements (huge strides, padding or
// dilation: the tiles take those).
bool plan_rows(const Conv2dParams& p, size_t OH, size_t OW, RowPlan* rp) {
  PhaseSlab& ps = rp->ps;
  const size_t ext_h = (p.kH - 1) * p.dilationH + 1, ext_w = (p.kW - 1) * p.dilationW + 1;
  ps.PH = std::min(p.strideH, ext_h);
  ps.PW = std::min(p.strideW, ext_w);
  ps.Wph = (p.W + p.padLeft + p.padRight + p.strideW - 1) / p.strideW;
  // Rows per task: ~kRowTaskPixels output pixels, fewer when the slab would outgrow
  // kRowSlabFloats. Each task copies its rows' kernel halo again, so larger tasks copy less
  // (ResNeXt's 4-channel 56x56 units: 256-pixel tasks spent a quarter of the time copying).
  const size_t halo = (p.kH - 1) * p.dilationH / p.strideH;
  int64_t row_floats = 0;  // slab floats per plane row
  const int64_t dims[4] = {static_cast<int64_t>(p.C), static_cast<int64_t>(ps.PH), static_cast<int64_t>(ps.PW),
                           static_cast<int64_t>(ps.Wph)};
  if (!checked_product(dims, 4, &row_floats) || row_floats == 0) return false;
  const size_t by_slab = kRowSlabFloats / static_cast<size_t>(row_floats);
  rp->rows_per_task = std::max<size_t>(
      1, std::min({OH, kRowTaskPixels / std::max<size_t>(1, OW), by_slab > halo ? by_slab - halo : size_t{1}}));
  rp->tasks_per_img = (OH + rp->rows_per_task - 1) / rp->rows_per_task;
  if (halo > static_cast<size_t>(kMaxElements)) return false;
  ps.Hph = rp->rows_per_task + halo;
  int64_t slab = 0;
  if (!checked_mul(row_floats, static_cast<int64_t>(ps.Hph), &slab)) return false;
  rp->slab_floats = static_cast<size_t>(slab);
  // Wide when the dropped pixels between rows cost less than the lanes a per-row sweep leaves
  // empty (plus ~10% for the extra copy).
  const int isa = static_cast<int>(active_isa());
  const size_t step = kRowStep[(isa >= 0 && isa < 4) ? isa : 0];
  const double row_use = static_cast<double>(OW) / static_cast<double>(round_up(OW, step));
  const double wide_use = static_cast<double>(OW) / static_cast<double>(ps.Wph);
  rp->wide = OH > 1 && rp->rows_per_task > 1 && wide_use > row_use + 0.1;
  rp->wide_n = (rp->rows_per_task - 1) * ps.Wph + OW;
  return !rp->wide || rp->wide_n <= static_cast<size_t>(kMaxElements) / kConvRowMaxC;
}

// The row kernels (see ConvRowArgs) over a PhaseSlab, any stride: tasks of whole output rows of one
// unit (image and group). A unit with more than kConvRowMaxC output channels runs its panels in
// chunks of kConvRowMaxC channels over the same slab (each output element is still one FMA chain
// over the whole K). Rows much narrower than the kernel's step (7 or 14 pixels of AVX-512's 32)
// run "wide": one kernel call sweeps the task's rows as one line of (rows-1)*Wph + OW pixels,
// the Wph - OW pixels between rows are computed and dropped, and the output goes through a small
// buffer whose rows are then copied out (the residual and the clamp applied there, in the tiles'
// order: ((acc + bias) + residual), clamp). Measured on LeNet-5's 1 -> 6 5x5 layer at 28x28,
// 1 thread: 6.0 -> 1.3 us against the tiles.
Status conv2d_packed_rows(const Conv2dParams& p, const Groups& grp, const RowPlan& rp, size_t OH, size_t OW,
                          const float* x, const float* packed, const float* bias, const float* residual, float* out) {
  const int isa = static_cast<int>(active_isa());
  const ConvRowFn fn = kRowFns[(isa >= 0 && isa < 4) ? isa : 0];
  const TileConfig& cfg = active_config();
  const size_t K = p.C * p.kH * p.kW, OHW = OH * OW;
  const PhaseSlab& ps = rp.ps;
  const size_t rows_per_task = rp.rows_per_task, tasks_per_img = rp.tasks_per_img;
  const bool wide = rp.wide;
  ScratchBuffer obuf;
  if (!obuf.reserve(2 * K)) return Status::kOutOfMemory;
  int64_t* offs = reinterpret_cast<int64_t*>(obuf.data());
  fill_phase_offsets(p, ps, offs);
  const size_t in_img = p.C * p.H * p.W, out_img = p.outC * OHW;
  const size_t slab_floats = rp.slab_floats;
  const size_t wide_floats = wide ? kConvRowMaxC * rp.wide_n : 0;
  const double task_macs = static_cast<double>(rows_per_task * OW) * static_cast<double>(p.outC) * static_cast<double>(K);
  const size_t grain = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(size_t{1} << 21) / task_macs));
  const ActClamp clamp = act_clamp(p.act, p.act_alpha, p.act_beta);
  std::atomic<bool> failed{false};
  parallel_for(p.N * tasks_per_img, grain, [&](size_t b, size_t e) {
    ScratchBuffer buf;
    if (!buf.reserve(slab_floats + wide_floats)) {
      failed.store(true, std::memory_order_relaxed);
      return;
    }
    float* slab = buf.data();
    float* line = slab + slab_floats;  // wide: kConvRowMaxC channels x wide_n pixels
    ConvRowArgs a{};
    a.kc = K;
    a.offs = offs;
    for (size_t t = b; t < e; ++t) {
      const size_t n = t / tasks_per_img, oh0 = (t % tasks_per_img) * rows_per_task;
      const size_t oh1 = std::min(OH, oh0 + rows_per_task);
      const size_t g = n % grp.count;
      const float* panels = packed + g * grp.panel_stride;
      const float* bias_g = bias ? bias + g * grp.bias_stride : nullptr;
      fill_phase_slab(p, ps, x + n * in_img, oh0, slab);
      float* out_n = out + n * out_img;
      const float* res_n = residual ? residual + n * out_img : nullptr;
      for (size_t c0 = 0; c0 < p.outC; c0 += cfg.nr) {
        const size_t pw = std::min(cfg.nr, p.outC - c0);
        a.nr = std::min(cfg.nr, round_up(pw, cfg.vs));
        for (size_t j0 = 0; j0 < pw; j0 += kConvRowMaxC) {
          const size_t c = c0 + j0;
          a.b = panels + c0 * K + j0;
          a.w = std::min(kConvRowMaxC, pw - j0);
          a.bias = bias_g ? bias_g + c : nullptr;
          if (wide) {
            // acc + bias (and the clamp when nothing is added after it) into the line buffer.
            a.src = slab;
            a.n = (oh1 - oh0 - 1) * ps.Wph + OW;
            a.out = line;
            a.ohw = a.n;
            a.residual = nullptr;
            a.clamp = clamp.on && !res_n;
            a.lo = clamp.lo;
            a.hi = clamp.hi;
            fn(a);
            for (size_t j = 0; j < a.w; ++j)
              for (size_t oh = oh0; oh < oh1; ++oh) {
                const float* l = line + j * a.n + (oh - oh0) * ps.Wph;
                float* o = out_n + (c + j) * OHW + oh * OW;
                if (!res_n) {
                  copy_floats(o, l, OW);
                  continue;
                }
                const float* r = res_n + (c + j) * OHW + oh * OW;
                for (size_t i = 0; i < OW; ++i) {
                  float v = l[i] + r[i];
                  if (clamp.on) {  // NaN propagates, as in the kernels
                    if (clamp.lo > v) v = clamp.lo;
                    if (clamp.hi < v) v = clamp.hi;
                  }
                  o[i] = v;
                }
              }
            continue;
          }
          a.n = OW;
          a.ohw = OHW;
          a.clamp = clamp.on;
          a.lo = clamp.lo;
          a.hi = clamp.hi;
          for (size_t oh = oh0; oh < oh1; ++oh) {
            a.src = slab + (oh - oh0) * ps.Wph;
            a.out = out_n + c * OHW + oh * OW;
            a.residual = res_n ? res_n + c * OHW + oh * OW : nullptr;
            fn(a);
          }
        }
      }
      if (p.act != 0 && !clamp.on)
        for (size_t c = 0; c < p.outC; ++c)
          for (size_t oh = oh0; oh < oh1; ++oh) apply_act(p.act, p.act_alpha, p.act_beta, out_n + c * OHW + oh * OW, OW);
    }
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}

// Whether the row kernels beat the tiles for a unit of p.outC channels (measured per grouped layer
// of RegNetX/Y-400MF and ResNeXt-50 on Zen 5, 1 thread, AVX-512 and AVX2, rows / tiles time): a
// tile narrower than its NR channels spends one FMA per broadcast instead of two, and its lanes
// past outC do nothing. Stride 1 along W: rows for up to 8 channels (ResNeXt's 4 channels at
// 56x56: 0.31 on AVX-512, 0.5 on AVX2; 8 at 28x28 0.42 / 0.84) and for up to NR/2 on maps at
// least 14 wide (AVX-512's 16 channels at 14x14 and 28x28: 0.77-0.9; at 7x7 the tiles win, 1.09).
// Wider strides (the input copied into column phases first): rows up to NR/4 channels on maps at
// least 14 wide (AVX-512's 8 channels: 0.62-0.89; at 7x7 1.12) and up to NR/2 on maps at least 56
// wide (AVX-512's 16 channels at 56x56 0.90, 28x28 1.04; AVX2's 8 at 56x56 0.80, 28x28 0.98).
bool rows_preferred(const Conv2dParams& p, const TileConfig& cfg, size_t OW) {
  if (p.strideW == 1) return p.outC <= kConvRowMaxC || (p.outC <= cfg.nr / 2 && OW >= 14);
  return (p.outC <= cfg.nr / 4 && OW >= 14) || (p.outC <= cfg.nr / 2 && OW >= 56);
}

}  // namespace

Status conv2d_packed(const Conv2dParams& p, const float* x, const float* packed, const float* bias,
                     const float* residual, float* out) {
  return conv2d_packed_path(p, x, packed, bias, residual, out, ConvPackedPath::kAuto);
}

Status conv2d_packed_path(const Conv2dParams& layer, const float* x, const float* packed, const float* bias,
                          const float* residual, float* out, ConvPackedPath path) {
  size_t OH = 0, OW = 0;
  if (!valid_params(layer, &OH, &OW) || !x || !packed || !out) return Status::kInvalidArgument;
  if (!conv2d_packed_matches(layer, packed)) return Status::kInvalidArgument;
  const TileConfig& cfg = active_config();
  packed += kHeaderFloats;
  const Conv2dParams p = unit_params(layer);
  const Groups grp{layer.groups, group_floats(layer), p.outC};
  if (path == ConvPackedPath::kRows || (path == ConvPackedPath::kAuto && rows_preferred(p, cfg, OW))) {
    RowPlan rp{};
    if (plan_rows(p, OH, OW, &rp)) return conv2d_packed_rows(p, grp, rp, OH, OW, x, packed, bias, residual, out);
    if (path == ConvPackedPath::kRows) return Status::kOutOfMemory;
  }

  Plan pl;
  pl.cfg = &cfg;
  pl.K = p.C * p.kH * p.kW;
  pl.OH = OH;
  pl.OW = OW;
  pl.OHW = OH * OW;
  pl.n_mp = (pl.OHW + cfg.mr - 1) / cfg.mr;
  const size_t mp_block = std::min(cfg.mp_block, kMaxMpBlock);
  pl.n_pb = (pl.n_mp + mp_block - 1) / mp_block;
  pl.mp_per_block = (pl.n_mp + pl.n_pb - 1) / pl.n_pb;  // even blocks: both threads get equal shares
  pl.n_pb = (pl.n_mp + pl.mp_per_block - 1) / pl.mp_per_block;
  pl.n_np = (p.outC + cfg.nr - 1) / cfg.nr;
  pl.n_cb = (pl.n_np + cfg.np_block - 1) / cfg.np_block;
  pl.np_per_block = (pl.n_np + pl.n_cb - 1) / pl.n_cb;
  pl.n_cb = (pl.n_np + pl.np_per_block - 1) / pl.np_per_block;
  {
    // Fewer tasks than threads (batch 1 on 14x14 maps with <= 128 channels: one pixel block, one
    // channel block): smaller pixel blocks, so that every thread has one, while each keeps enough
    // work to pay for waking it. Pixel blocks are whole MR-pixel tiles, so no element's arithmetic
    // depends on the split (or on the thread count).
    const size_t threads = static_cast<size_t>(std::max(1, num_threads()));
    const size_t units = p.N * pl.n_cb * pl.n_pb;
    const double macs = static_cast<double>(p.N) * static_cast<double>(OH * OW) * static_cast<double>(p.outC) *
                        static_cast<double>(p.C * p.kH * p.kW);
    if (threads > 1 && units < threads && macs >= static_cast<double>(threads) * static_cast<double>(size_t{1} << 20)) {
      const size_t want_pb = std::min(pl.n_mp, pl.n_pb * ((threads + units - 1) / units));
      pl.mp_per_block = (pl.n_mp + want_pb - 1) / want_pb;
      pl.n_pb = (pl.n_mp + pl.mp_per_block - 1) / pl.mp_per_block;
    }
  }
  pl.n_kb = (pl.K + cfg.kc - 1) / cfg.kc;
  pl.kc = (pl.K + pl.n_kb - 1) / pl.n_kb;  // even K blocks
  pl.slab = p.padTop || p.padLeft || p.padBottom || p.padRight;
  if (pl.slab) {
    pl.Wp = p.W + p.padLeft + p.padRight;
    pl.slab_h = 0;
    for (size_t pb = 0; pb < pl.n_pb; ++pb) {
      size_t oh_a = 0, oh_b = 0;
      block_rows(pl, pb * pl.mp_per_block, std::min(pl.n_mp, (pb + 1) * pl.mp_per_block), &oh_a, &oh_b);
      pl.slab_h = std::max(pl.slab_h, (oh_b - oh_a) * p.strideH + (p.kH - 1) * p.dilationH + 1);
    }
  } else {
    pl.Wp = p.W;
    pl.slab_h = p.H;
  }

  ScratchBuffer obuf;
  if (!obuf.reserve(2 * pl.K)) return Status::kOutOfMemory;
  int64_t* offs = reinterpret_cast<int64_t*>(obuf.data());
  fill_tap_offsets(p, pl.slab_h, pl.Wp, offs);
  pl.offs = offs;

  // Tasks: units (image, group) outer (batches and groups split by unit), then pixel blocks, then channel blocks (late
  // layers, one pixel block, split their weights); consecutive tasks of a thread share the slab.
  // Which thread runs a task changes no arithmetic.
  const size_t tasks_per_img = pl.n_cb * pl.n_pb;
  const double task_macs = static_cast<double>(pl.OHW) * static_cast<double>(p.outC) * static_cast<double>(pl.K) /
                           static_cast<double>(tasks_per_img);
  // Waking a pool worker costs 10-30 us: a chunk must carry several times that in work.
  const size_t grain = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(size_t{1} << 21) / task_macs));
  const size_t in_img = p.C * p.H * p.W, out_img = p.outC * pl.OHW;
  const size_t slab_floats = pl.slab ? p.C * pl.slab_h * pl.Wp : 0;
  const size_t partial_floats = pl.n_kb > 1 ? pl.mp_per_block * cfg.mr * cfg.nr : 0;
  std::atomic<bool> failed{false};
  parallel_for(p.N * tasks_per_img, grain, [&](size_t b, size_t e) {
    ScratchBuffer buf;
    if (!buf.reserve(std::max<size_t>(1, slab_floats + partial_floats))) {
      failed.store(true, std::memory_order_relaxed);
      return;
    }
    size_t slab_of = SIZE_MAX;  // the (image, pixel block) the slab holds
    for (size_t t = b; t < e; ++t) {
      const size_t n = t / tasks_per_img, r = t % tasks_per_img;
      const size_t pb = r / pl.n_cb, cb = r % pl.n_cb;
      const size_t block = t / pl.n_cb;
      const float* res_n = residual ? residual + n * out_img : nullptr;
      const size_t g = n % grp.count;
      run_task(pl, p, x + n * in_img, packed + g * grp.panel_stride, bias ? bias + g * grp.bias_stride : nullptr,
               res_n, out + n * out_img, cb, pb, buf.data(), block != slab_of, buf.data() + slab_floats);
      slab_of = block;
    }
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace simdcnn
