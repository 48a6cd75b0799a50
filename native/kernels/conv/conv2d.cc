#include "kernels/conv/conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/act/unary.h"
#include "kernels/conv/conv_jobs.h"
#include "kernels/conv/im2col_batch.h"
#include "kernels/conv/depthwise.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_pack.h"

namespace simdcnn {
namespace {

const DwPlanesFn kDepthwise[] = {
    depthwise_planes_scalar,
#if SIMDCNN_X86
    depthwise_planes_avx2,
    depthwise_planes_avx512,
#else
    depthwise_planes_scalar,
    depthwise_planes_scalar,
#endif
#if SIMDCNN_ARM64
    depthwise_planes_neon,
#else
    depthwise_planes_scalar,  // neon: not this target
#endif
};

DwPlanesFn active_depthwise() {
  const int i = static_cast<int>(active_isa());
  return kDepthwise[(i >= 0 && i < 4) ? i : 0];
}

// Implicit im2col over a zero-padded, phase-split image. The padded image [Cg, Hp, Wp] is split by
// stride phase into planes xp[c][ph][pw] of Hq x Wq, plane(y, x) = padded(y*sH + ph, x*sW + pw).
// Indexing the output as n = oh*Wq + ow (rows as wide as a plane), the im2col row of tap
// k = (c, kh, kw) is then the contiguous slice xp[offs[k] + n] with ph, qh = divmod(kh*dH, sH) and
// pw, qw = divmod(kw*dW, sW): offs[k] = plane(c, ph, pw) + qh*Wq + qw. Packing a B panel is one copy
// per row, for any stride and dilation; the columns ow >= OW are computed and discarded.
struct PaddedRows {
  const float* xp;
  const int64_t* offs;  // [Cg*kH*kW]
};

void pack_padded_rows(const void* ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, float* dst) {
  const PaddedRows& g = *static_cast<const PaddedRows*>(ctx);
  for (size_t j0 = 0; j0 < nc; j0 += nr)
    gemm_copy_rows(kc, g.xp + n0 + j0, g.offs + k0, std::min(nr, nc - j0), nr, dst + (j0 / nr) * kc * nr);
}

// Planes (image, output channel) are independent: threads take ranges of them, each with its own
// band scratch. ReLU and Clip are the kernel's clamp; other activations its pass over each plane.
Status conv_depthwise(const Conv2dParams& p, size_t OH, size_t OW, const float* x, const float* w,
                      const float* bias, float* out) {
  const DwPlanesFn fn = active_depthwise();
  DwArgs a{};
  a.x = x;
  a.w = w;
  a.bias = bias;
  a.out = out;
  a.C = p.C;
  a.mult = p.outC / p.C;
  a.H = p.H;
  a.W = p.W;
  a.kH = p.kH;
  a.kW = p.kW;
  a.OH = OH;
  a.OW = OW;
  a.sH = p.strideH;
  a.sW = p.strideW;
  a.pT = p.padTop;
  a.pL = p.padLeft;
  a.dH = p.dilationH;
  a.dW = p.dilationW;
  const ActClamp clamp = act_clamp(p.act, p.act_alpha, p.act_beta);
  a.lo = clamp.lo;
  a.hi = clamp.hi;
  a.act = clamp.on ? 0 : p.act;
  a.act_alpha = p.act_alpha;
  a.act_beta = p.act_beta;
  const size_t scratch = dw_band(a).scratch_floats;
  const size_t plane_work = OH * OW * p.kH * p.kW;
  const size_t grain = std::max<size_t>(1, (size_t{1} << 17) / std::max<size_t>(1, plane_work));
  std::atomic<bool> failed{false};
  parallel_for(p.N * p.outC, grain, [&](size_t begin, size_t end) {
    ScratchBuffer buf;
    if (!buf.reserve(scratch)) {
      failed.store(true, std::memory_order_relaxed);
      return;
    }
    fn(a, begin, end, buf.data());
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}

// Small output maps (im2col_batch.h): images grouped into one GEMM per group, then scattered to
// their planes (and activated there when the activation is not the GEMM's clamp).
Status conv_small_maps(const Conv2dParams& p, size_t OH, size_t OW, const PackedA* packed, const float* x,
                       const float* bias, float* out) {
  const size_t G = p.groups, Cg = p.C / G, Mg = p.outC / G, Kg = Cg * p.kH * p.kW, OHW = OH * OW;
  const size_t nb_max = small_map_images(p, OHW);
  ScratchBuffer cbuf, obuf;
  if (!cbuf.reserve(Kg * nb_max * OHW) || !obuf.reserve(Mg * nb_max * OHW)) return Status::kOutOfMemory;
  const ActClamp clamp = act_clamp(p.act, p.act_alpha, p.act_beta);
  for (size_t n0 = 0; n0 < p.N; n0 += nb_max) {
    const size_t nb = std::min(nb_max, p.N - n0), ld = nb * OHW;
    for (size_t g = 0; g < G; ++g) {
      im2col_batch(p, OH, OW, x, n0, nb, g, cbuf.data(), true);
      GemmEpilogue ep;
      ep.row_bias = bias ? bias + g * Mg : nullptr;
      ep.act = p.act == 1 ? GemmAct::kRelu : clamp.on ? GemmAct::kClamp : GemmAct::kNone;
      ep.clamp_lo = clamp.lo;
      ep.clamp_hi = clamp.hi;
      const Status s = gemm_packed_a(packed[g], ld, cbuf.data(), ld, false, obuf.data(), ld, ep, true);
      if (s != Status::kOk) return s;
      const bool post = p.act != 0 && !clamp.on;
      parallel_for(Mg, std::max<size_t>(1, (size_t{1} << 14) / std::max<size_t>(1, ld)), [&](size_t b, size_t e) {
        for (size_t m = b; m < e; ++m)
          for (size_t i = 0; i < nb; ++i) {
            float* d = out + ((n0 + i) * p.outC + g * Mg + m) * OHW;
            std::memcpy(d, obuf.data() + m * ld + i * OHW, OHW * sizeof(float));
            if (post) apply_act(p.act, p.act_alpha, p.act_beta, d, OHW);
          }
      });
    }
  }
  return Status::kOk;
}

}  // namespace

bool conv2d_output_size(const Conv2dParams& p, size_t* oh, size_t* ow) {
  if (p.N == 0 || p.C == 0 || p.H == 0 || p.W == 0 || p.outC == 0 || p.kH == 0 || p.kW == 0 ||
      p.strideH == 0 || p.strideW == 0 || p.dilationH == 0 || p.dilationW == 0 || p.groups == 0 ||
      p.C % p.groups != 0 || p.outC % p.groups != 0 || !act_code_valid(p.act))
    return false;
  const size_t eff_h = p.dilationH * (p.kH - 1) + 1, eff_w = p.dilationW * (p.kW - 1) + 1;
  const size_t in_h = p.H + p.padTop + p.padBottom, in_w = p.W + p.padLeft + p.padRight;
  if (in_h < eff_h || in_w < eff_w) return false;
  *oh = (in_h - eff_h) / p.strideH + 1;
  *ow = (in_w - eff_w) / p.strideW + 1;
  return true;
}

namespace {

bool pointwise_geometry(const Conv2dParams& p) {
  return p.kH == 1 && p.kW == 1 && p.strideH == 1 && p.strideW == 1 && p.padTop == 0 && p.padLeft == 0 &&
         p.padBottom == 0 && p.padRight == 0;
}

// conv2d, and conv2d_pointwise when `residual` is set (then the geometry is pointwise).
Status conv2d_impl(const Conv2dParams& p, const float* x, const float* w, const float* bias, const float* residual,
                   float* out) {
  size_t OH = 0, OW = 0;
  if (!conv2d_output_size(p, &OH, &OW) || !x || !w || !out) return Status::kInvalidArgument;
  if (p.groups == p.C && p.groups > 1 && !residual) return conv_depthwise(p, OH, OW, x, w, bias, out);

  const size_t G = p.groups, Cg = p.C / G, Mg = p.outC / G;
  const size_t Kg = Cg * p.kH * p.kW, OHW = OH * OW, HW = p.H * p.W;
  const bool pointwise = pointwise_geometry(p);

  // Weights of group g are rows [g*Mg, (g+1)*Mg) of w viewed as [outC, Kg]: read in place where
  // the kernel can (no per-call repack of the weights), else packed once per group.
  std::unique_ptr<PackedA[]> packed(new (std::nothrow) PackedA[G]);
  if (!packed) return Status::kOutOfMemory;
  for (size_t g = 0; g < G; ++g) {
    const Status s = gemm_view_a(Mg, Kg, w + g * Mg * Kg, Kg, &packed[g]);
    if (s != Status::kOk) return s;
  }

  if (!residual && small_maps(p, OH, OW)) return conv_small_maps(p, OH, OW, packed.get(), x, bias, out);

  auto run_one = [&](size_t n, size_t g, bool threads) -> Status {
    const float* xg = x + (n * p.C + g * Cg) * HW;
    float* og = out + (n * p.outC + g * Mg) * OHW;
    GemmEpilogue ep;
    ep.row_bias = bias ? bias + g * Mg : nullptr;
    // ReLU and Clip in the tile's registers; other activations over the group's finished output.
    const ActClamp clamp = act_clamp(p.act, p.act_alpha, p.act_beta);
    ep.act = p.act == 1 ? GemmAct::kRelu : clamp.on ? GemmAct::kClamp : GemmAct::kNone;
    ep.clamp_lo = clamp.lo;
    ep.clamp_hi = clamp.hi;
    const auto post = [&](Status st) {
      if (st == Status::kOk && p.act != 0 && !clamp.on) {
        if (threads)
          parallel_for(Mg, std::max<size_t>(1, (size_t{1} << 15) / OHW), [&](size_t b, size_t e) {
            apply_act(p.act, p.act_alpha, p.act_beta, og + b * OHW, (e - b) * OHW);
          });
        else
          apply_act(p.act, p.act_alpha, p.act_beta, og, Mg * OHW);
      }
      return st;
    };
    if (pointwise) {
      if (residual) {
        // The GEMM starts from C: the residual, copied in unless it is out itself.
        const float* rg = residual + (n * p.outC + g * Mg) * OHW;
        if (rg != og) std::memcpy(og, rg, Mg * OHW * sizeof(float));
        ep.accumulate = true;
      }
      // Other activations on each finished tile (the image is C itself: no copy-out follows).
      if (p.act != 0 && !clamp.on) {
        ep.tile_act = p.act;
        ep.tile_act_alpha = p.act_alpha;
        ep.tile_act_beta = p.act_beta;
      }
      return gemm_packed_a(packed[g], OHW, xg, HW, false, og, OHW, ep, threads);
    }
    const size_t sH = p.strideH, sW = p.strideW;
    const size_t Hp = p.H + p.padTop + p.padBottom, Wp = p.W + p.padLeft + p.padRight;
    const size_t Hq = (Hp + sH - 1) / sH, Wq = (Wp + sW - 1) / sW, plane = Hq * Wq;
    // Row offsets (int64) live in a float scratch buffer: two floats per offset.
    ScratchBuffer obuf, xbuf, cbuf;
    if (!obuf.reserve(2 * Kg)) return Status::kOutOfMemory;
    int64_t* offs = reinterpret_cast<int64_t*>(obuf.data());
    for (size_t c = 0, k = 0; c < Cg; ++c)
      for (size_t kh = 0; kh < p.kH; ++kh)
        for (size_t kw = 0; kw < p.kW; ++kw, ++k) {
          const size_t ph = kh * p.dilationH % sH, qh = kh * p.dilationH / sH;
          const size_t pw = kw * p.dilationW % sW, qw = kw * p.dilationW / sW;
          offs[k] = static_cast<int64_t>(((c * sH + ph) * sW + pw) * plane + qh * Wq + qw);
        }
    const float* xp = xg;
    if (sH != 1 || sW != 1 || Hp != p.H || Wp != p.W) {
      if (!xbuf.reserve(Cg * sH * sW * plane)) return Status::kOutOfMemory;
      // Only phases some tap reads are built (a 1x1 stride-2 conv reads one plane of four); the
      // others stay unwritten and are never addressed by offs.
      uint32_t used = 0;  // bit ph*sW + pw; strides beyond 5 x 6 just build every plane
      const bool track = sH * sW <= 32;
      for (size_t kh = 0; kh < p.kH && track; ++kh)
        for (size_t kw = 0; kw < p.kW; ++kw)
          used |= 1u << ((kh * p.dilationH % sH) * sW + kw * p.dilationW % sW);
      // Channels are independent: split them across threads (batch 1 has no other parallelism
      // outside the GEMM), in chunks of >= 64K floats since waking a pool worker costs 10-30 us.
      auto build = [&](size_t c_begin, size_t c_end) {
        for (size_t c = c_begin; c < c_end; ++c)
          for (size_t ph = 0; ph < sH; ++ph)
            for (size_t pw = 0; pw < sW; ++pw) {
              float* d = xbuf.data() + ((c * sH + ph) * sW + pw) * plane;
              if (track && !((used >> (ph * sW + pw)) & 1u)) continue;
              // Plane columns whose source column x*sW + pw - pL lies inside the input: [lo, hi).
              const size_t lo = std::min(Wq, (p.padLeft > pw ? p.padLeft - pw + sW - 1 : 0) / sW);
              const size_t end = p.padLeft + p.W;  // first padded column past the input
              const size_t hi = std::max(lo, std::min(Wq, end > pw ? (end - pw + sW - 1) / sW : 0));
              for (size_t y = 0; y < Hq; ++y, d += Wq) {
                const size_t yy = y * sH + ph;  // row in the padded image
                if (yy < p.padTop || yy >= p.padTop + p.H) {
                  std::memset(d, 0, Wq * sizeof(float));
                  continue;
                }
                for (size_t x = 0; x < lo; ++x) d[x] = 0.0f;
                if (hi > lo) {
                  const float* src = xg + (c * p.H + (yy - p.padTop)) * p.W + (lo * sW + pw - p.padLeft);
                  if (sW == 1) {
                    std::memcpy(d + lo, src, (hi - lo) * sizeof(float));
                  } else {
                    for (size_t x = lo; x < hi; ++x) d[x] = src[(x - lo) * sW];
                  }
                }
                for (size_t x = hi; x < Wq; ++x) d[x] = 0.0f;
              }
            }
      };
      if (threads)
        parallel_for(Cg, std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(1, sH * sW * plane)),
                     [&](size_t b, size_t e) { build(b, e); });
      else
        build(0, Cg);
      xp = xbuf.data();
    }
    // Columns up to the last valid output; when Wq == OW the rows have no discarded tail.
    const size_t Np = (OH - 1) * Wq + OW;
    float* cdst = og;
    if (Wq != OW) {
      if (!cbuf.reserve(Mg * Np)) return Status::kOutOfMemory;
      cdst = cbuf.data();
    }
    PaddedRows pr{xp, offs};
    GemmBPacker bp{pack_padded_rows, &pr};
    const Status s = gemm_packed_a_custom_b(packed[g], Np, bp, cdst, Wq != OW ? Np : OHW, ep, threads);
    if (s != Status::kOk || Wq == OW) return post(s);
    auto copy_out = [&](size_t m_begin, size_t m_end) {
      for (size_t m = m_begin; m < m_end; ++m)
        for (size_t oh = 0; oh < OH; ++oh)
          std::memcpy(og + m * OHW + oh * OW, cdst + m * Np + oh * Wq, OW * sizeof(float));
    };
    if (threads)
      parallel_for(Mg, std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(1, OHW)),
                   [&](size_t b, size_t e) { copy_out(b, e); });
    else
      copy_out(0, Mg);
    return post(Status::kOk);
  };

  const double per_job = static_cast<double>(Mg) * static_cast<double>(OHW) * static_cast<double>(Kg);
  return run_conv_jobs(p.N * G, per_job, [&](size_t t, bool threads) { return run_one(t / G, t % G, threads); });
}

}  // namespace

Status conv2d(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* out) {
  return conv2d_impl(p, x, w, bias, nullptr, out);
}

Status conv2d_pointwise(const Conv2dParams& p, const float* x, const float* w, const float* bias,
                        const float* residual, float* out) {
  if (!pointwise_geometry(p)) return Status::kInvalidArgument;
  return conv2d_impl(p, x, w, bias, residual, out);
}

}  // namespace simdcnn
