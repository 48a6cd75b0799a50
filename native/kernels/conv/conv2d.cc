#include "kernels/conv/conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/conv/depthwise.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_pack.h"

namespace simdcnn {
namespace {

const DwPlaneFn kDepthwise[] = {
    depthwise_plane_scalar,
#if SIMDCNN_X86
    depthwise_plane_avx2,
    depthwise_plane_avx512,
#else
    depthwise_plane_scalar,
    depthwise_plane_scalar,
#endif
    depthwise_plane_scalar,  // neon
};

DwPlaneFn active_depthwise() {
  const int i = static_cast<int>(active_isa());
  return kDepthwise[(i >= 0 && i < 4) ? i : 0];
}

// One image and group: B = im2col(x) as [Cg*kH*kW, OH*OW], row k = (c, kh, kw), column n = (oh, ow).
struct Im2col {
  const float* x;  // first channel of the group in this image
  int64_t H, W, OH, OW, kH, kW, sH, sW, pT, pL, dH, dW;
};

// Copies n floats; the runs here are at most NR long, where a libc memcpy call costs more than
// the copy.
inline void copy_run(float* d, const float* s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = s[i];
}

void pack_im2col(const void* ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, float* dst) {
  const Im2col& g = *static_cast<const Im2col*>(ctx);
  const int64_t NR = static_cast<int64_t>(nr), NC = static_cast<int64_t>(nc), KC = static_cast<int64_t>(kc);
  const int64_t first = static_cast<int64_t>(n0);
  // (c, kh, kw) of row k0, then stepped per row: no divisions in the loop.
  int64_t c = static_cast<int64_t>(k0) / (g.kH * g.kW);
  int64_t kh = static_cast<int64_t>(k0) / g.kW % g.kH;
  int64_t kw = static_cast<int64_t>(k0) % g.kW;
  const int64_t oh_first = first / g.OW, ow_first = first % g.OW;
  for (int64_t k = 0; k < KC; ++k) {
    const float* plane = g.x + c * g.H * g.W;
    const int64_t off_h = kh * g.dH - g.pT, off_w = kw * g.dW - g.pL;
    int64_t oh = oh_first, ow = ow_first;
    for (int64_t j0 = 0; j0 < NC; j0 += NR) {
      const int64_t w = std::min(NR, NC - j0);
      float* d = dst + (j0 / NR) * KC * NR + k * NR;
      int64_t j = 0;
      while (j < w) {
        const int64_t run = std::min(w - j, g.OW - ow);  // columns left in this output row
        const int64_t ih = oh * g.sH + off_h;
        if (ih < 0 || ih >= g.H) {
          for (int64_t t = 0; t < run; ++t) d[j + t] = 0.0f;
        } else {
          const float* row = plane + ih * g.W;
          // iw = (ow + t)*sW + off_w is valid for t in [lo, hi).
          const int64_t base = ow * g.sW + off_w;
          int64_t lo, hi;
          if (g.sW == 1) {  // the common case, without the divisions
            lo = base >= 0 ? 0 : -base;
            hi = g.W - base;
          } else {
            lo = base >= 0 ? 0 : (-base + g.sW - 1) / g.sW;
            hi = g.W - 1 - base >= 0 ? (g.W - 1 - base) / g.sW + 1 : 0;
          }
          lo = std::min(lo, run);
          hi = std::max(lo, std::min(hi, run));
          for (int64_t t = 0; t < lo; ++t) d[j + t] = 0.0f;
          if (g.sW == 1) {
            copy_run(d + j + lo, row + base + lo, hi - lo);
          } else {
            for (int64_t t = lo; t < hi; ++t) d[j + t] = row[base + t * g.sW];
          }
          for (int64_t t = hi; t < run; ++t) d[j + t] = 0.0f;
        }
        j += run;
        ow += run;
        if (ow == g.OW) {
          ow = 0;
          ++oh;
        }
      }
      for (int64_t t = w; t < NR; ++t) d[t] = 0.0f;
    }
    if (++kw == g.kW) {
      kw = 0;
      if (++kh == g.kH) {
        kh = 0;
        ++c;
      }
    }
  }
}

// Stride-1 convolution over a zero-padded image xp [Cg, Hp, Wp]: with the output indexed as
// n = oh*Wp + ow (rows as wide as the padded input), row k = (c, kh, kw) of B is the contiguous
// slice xp[offs[k] + n], offs[k] = c*Hp*Wp + kh*dH*Wp + kw*dW. Packing is then one copy per row
// and panel; the columns ow >= OW are computed and discarded.
struct PaddedRows {
  const float* xp;
  const int64_t* offs;  // [Cg*kH*kW]
};

void pack_padded_rows(const void* ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, float* dst) {
  const PaddedRows& g = *static_cast<const PaddedRows*>(ctx);
  for (size_t j0 = 0; j0 < nc; j0 += nr)
    gemm_copy_rows(kc, g.xp + n0 + j0, g.offs + k0, std::min(nr, nc - j0), nr, dst + (j0 / nr) * kc * nr);
}

Status conv_depthwise(const Conv2dParams& p, size_t OH, size_t OW, const float* x, const float* w,
                      const float* bias, float* out) {
  const DwPlaneFn fn = active_depthwise();
  const size_t mult = p.outC / p.C;
  const size_t planes = p.N * p.outC;
  const size_t plane_work = OH * OW * p.kH * p.kW;
  const size_t grain = std::max<size_t>(1, (size_t{1} << 17) / std::max<size_t>(1, plane_work));
  parallel_for(planes, grain, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      const size_t n = t / p.outC, oc = t % p.outC, ic = oc / mult;
      DwPlaneArgs a;
      a.in = x + (n * p.C + ic) * p.H * p.W;
      a.H = p.H;
      a.W = p.W;
      a.k = w + oc * p.kH * p.kW;
      a.kH = p.kH;
      a.kW = p.kW;
      a.bias = bias ? bias[oc] : 0.0f;
      a.relu = p.act == 1;
      a.out = out + t * OH * OW;
      a.OH = OH;
      a.OW = OW;
      a.sH = p.strideH;
      a.sW = p.strideW;
      a.pT = p.padTop;
      a.pL = p.padLeft;
      a.dH = p.dilationH;
      a.dW = p.dilationW;
      fn(a);
    }
  });
  return Status::kOk;
}

}  // namespace

bool conv2d_output_size(const Conv2dParams& p, size_t* oh, size_t* ow) {
  if (p.N == 0 || p.C == 0 || p.H == 0 || p.W == 0 || p.outC == 0 || p.kH == 0 || p.kW == 0 ||
      p.strideH == 0 || p.strideW == 0 || p.dilationH == 0 || p.dilationW == 0 || p.groups == 0 ||
      p.C % p.groups != 0 || p.outC % p.groups != 0 || (p.act != 0 && p.act != 1))
    return false;
  const size_t eff_h = p.dilationH * (p.kH - 1) + 1, eff_w = p.dilationW * (p.kW - 1) + 1;
  const size_t in_h = p.H + p.padTop + p.padBottom, in_w = p.W + p.padLeft + p.padRight;
  if (in_h < eff_h || in_w < eff_w) return false;
  *oh = (in_h - eff_h) / p.strideH + 1;
  *ow = (in_w - eff_w) / p.strideW + 1;
  return true;
}

Status conv2d(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* out) {
  size_t OH = 0, OW = 0;
  if (!conv2d_output_size(p, &OH, &OW) || !x || !w || !out) return Status::kInvalidArgument;
  if (p.groups == p.C && p.groups > 1) return conv_depthwise(p, OH, OW, x, w, bias, out);

  const size_t G = p.groups, Cg = p.C / G, Mg = p.outC / G;
  const size_t Kg = Cg * p.kH * p.kW, OHW = OH * OW, HW = p.H * p.W;
  const bool pointwise = p.kH == 1 && p.kW == 1 && p.strideH == 1 && p.strideW == 1 &&
                         p.padTop == 0 && p.padLeft == 0 && p.padBottom == 0 && p.padRight == 0;

  // Weights of group g are rows [g*Mg, (g+1)*Mg) of w viewed as [outC, Kg]: pack each group once.
  std::unique_ptr<PackedA[]> packed(new (std::nothrow) PackedA[G]);
  if (!packed) return Status::kOutOfMemory;
  for (size_t g = 0; g < G; ++g) {
    const Status s = gemm_pack_a(Mg, Kg, w + g * Mg * Kg, Kg, false, &packed[g]);
    if (s != Status::kOk) return s;
  }

  auto run_one = [&](size_t n, size_t g, bool threads) -> Status {
    const float* xg = x + (n * p.C + g * Cg) * HW;
    float* og = out + (n * p.outC + g * Mg) * OHW;
    GemmEpilogue ep;
    ep.row_bias = bias ? bias + g * Mg : nullptr;
    ep.act = p.act == 1 ? GemmAct::kRelu : GemmAct::kNone;
    if (pointwise) return gemm_packed_a(packed[g], OHW, xg, HW, false, og, OHW, ep, threads);
    if (p.strideH == 1 && p.strideW == 1) {
      const size_t Hp = p.H + p.padTop + p.padBottom, Wp = p.W + p.padLeft + p.padRight;
      const bool padded = Hp != p.H || Wp != p.W;
      // Row offsets (int64) live in a float scratch buffer: two floats per offset.
      ScratchBuffer obuf, xbuf, cbuf;
      if (!obuf.reserve(2 * Kg)) return Status::kOutOfMemory;
      int64_t* offs = reinterpret_cast<int64_t*>(obuf.data());
      for (size_t c = 0, k = 0; c < Cg; ++c)
        for (size_t kh = 0; kh < p.kH; ++kh)
          for (size_t kw = 0; kw < p.kW; ++kw, ++k)
            offs[k] = static_cast<int64_t>(c * Hp * Wp + kh * p.dilationH * Wp + kw * p.dilationW);
      const float* xp = xg;
      if (padded) {
        if (!xbuf.reserve(Cg * Hp * Wp)) return Status::kOutOfMemory;
        float* d = xbuf.data();
        for (size_t c = 0; c < Cg; ++c) {
          float* plane = d + c * Hp * Wp;
          std::memset(plane, 0, p.padTop * Wp * sizeof(float));
          for (size_t h = 0; h < p.H; ++h) {
            float* row = plane + (h + p.padTop) * Wp;
            for (size_t i = 0; i < p.padLeft; ++i) row[i] = 0.0f;
            std::memcpy(row + p.padLeft, xg + (c * p.H + h) * p.W, p.W * sizeof(float));
            for (size_t i = p.padLeft + p.W; i < Wp; ++i) row[i] = 0.0f;
          }
          std::memset(plane + (p.padTop + p.H) * Wp, 0, p.padBottom * Wp * sizeof(float));
        }
        xp = d;
      }
      // Columns up to the last valid output; with kW == 1 the rows have no discarded tail.
      const size_t Np = (OH - 1) * Wp + OW;
      float* cdst = og;
      if (Wp != OW) {
        if (!cbuf.reserve(Mg * Np)) return Status::kOutOfMemory;
        cdst = cbuf.data();
      }
      PaddedRows pr{xp, offs};
      GemmBPacker bp{pack_padded_rows, &pr};
      const Status s = gemm_packed_a_custom_b(packed[g], Np, bp, cdst, Wp != OW ? Np : OHW, ep, threads);
      if (s != Status::kOk || Wp == OW) return s;
      for (size_t m = 0; m < Mg; ++m)
        for (size_t oh = 0; oh < OH; ++oh)
          std::memcpy(og + m * OHW + oh * OW, cdst + m * Np + oh * Wp, OW * sizeof(float));
      return Status::kOk;
    }
    Im2col ic{xg,
              static_cast<int64_t>(p.H),
              static_cast<int64_t>(p.W),
              static_cast<int64_t>(OH),
              static_cast<int64_t>(OW),
              static_cast<int64_t>(p.kH),
              static_cast<int64_t>(p.kW),
              static_cast<int64_t>(p.strideH),
              static_cast<int64_t>(p.strideW),
              static_cast<int64_t>(p.padTop),
              static_cast<int64_t>(p.padLeft),
              static_cast<int64_t>(p.dilationH),
              static_cast<int64_t>(p.dilationW)};
    GemmBPacker bp{pack_im2col, &ic};
    return gemm_packed_a_custom_b(packed[g], OHW, bp, og, OHW, ep, threads);
  };

  const size_t jobs = p.N * G;
  const double per_job = static_cast<double>(Mg) * static_cast<double>(OHW) * static_cast<double>(Kg);
  if (jobs == 1 || per_job >= static_cast<double>(kGemmThreadingThreshold)) {
    // Big GEMMs: one at a time, each split across threads inside.
    for (size_t t = 0; t < jobs; ++t) {
      const Status s = run_one(t / G, t % G, true);
      if (s != Status::kOk) return s;
    }
    return Status::kOk;
  }
  // Many small GEMMs (batches, groups): one per task, each single-threaded.
  std::atomic<bool> failed{false};
  const size_t grain =
      std::max<size_t>(1, static_cast<size_t>(static_cast<double>(kGemmThreadingThreshold) / std::max(per_job, 1.0)));
  parallel_for(jobs, grain, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t)
      if (run_one(t / G, t % G, false) != Status::kOk) failed.store(true, std::memory_order_relaxed);
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace simdcnn
