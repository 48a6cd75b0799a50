#include "kernels/conv/conv2d_backward.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "core/thread_pool.h"
#include "kernels/conv/conv_jobs.h"
#include "kernels/conv/conv_weight_dot.h"
#include "kernels/conv/im2col_batch.h"
#include "core/arch.h"
#include "core/dispatch.h"
#include "core/scratch.h"
#include "kernels/conv/conv2d.h"
#include "kernels/gemm/gemm.h"

namespace simdcnn {
namespace {

// The phase-split layout of conv2d.cc: the padded image [Cg, Hp, Wp] split by stride phase into
// planes of Hq x Wq; the im2col row of tap k is xp[offs[k] + j] for j < Np, with output (oh, ow)
// at column j = oh*Wq + ow (columns ow >= OW are filler).
struct Layout {
  size_t Cg, Mg, Kg, OH, OW, OHW, HW;
  size_t sH, sW, Hq, Wq, plane, Np;
  bool direct;     // stride 1, unpadded: the split image is the image itself
  bool pointwise;  // 1x1 on top of that: the im2col matrix is the image
};

Layout make_layout(const Conv2dParams& p, size_t OH, size_t OW) {
  Layout L;
  L.Cg = p.C / p.groups;
  L.Mg = p.outC / p.groups;
  L.Kg = L.Cg * p.kH * p.kW;
  L.OH = OH;
  L.OW = OW;
  L.OHW = OH * OW;
  L.HW = p.H * p.W;
  L.sH = p.strideH;
  L.sW = p.strideW;
  const size_t Hp = p.H + p.padTop + p.padBottom, Wp = p.W + p.padLeft + p.padRight;
  L.Hq = (Hp + L.sH - 1) / L.sH;
  L.Wq = (Wp + L.sW - 1) / L.sW;
  L.plane = L.Hq * L.Wq;
  L.Np = (OH - 1) * L.Wq + OW;
  L.direct = L.sH == 1 && L.sW == 1 && Hp == p.H && Wp == p.W;
  L.pointwise = L.direct && p.kH == 1 && p.kW == 1;
  return L;
}

void tap_offsets(const Conv2dParams& p, const Layout& L, int64_t* offs) {
  for (size_t c = 0, k = 0; c < L.Cg; ++c)
    for (size_t kh = 0; kh < p.kH; ++kh)
      for (size_t kw = 0; kw < p.kW; ++kw, ++k) {
        const size_t ph = kh * p.dilationH % L.sH, qh = kh * p.dilationH / L.sH;
        const size_t pw = kw * p.dilationW % L.sW, qw = kw * p.dilationW / L.sW;
        offs[k] = static_cast<int64_t>(((c * L.sH + ph) * L.sW + pw) * L.plane + qh * L.Wq + qw);
      }
}

// Where input pixel (ih, iw) of channel c lives in the split image.
inline size_t split_index(const Conv2dParams& p, const Layout& L, size_t c, size_t ih, size_t iw) {
  const size_t yy = ih + p.padTop, xx = iw + p.padLeft;
  return ((c * L.sH + yy % L.sH) * L.sW + xx % L.sW) * L.plane + (yy / L.sH) * L.Wq + xx / L.sW;
}

// xp (Cg*sH*sW*plane floats) = the split image of xg; padding is zero.
void split_image(const Conv2dParams& p, const Layout& L, const float* xg, float* xp) {
  std::memset(xp, 0, L.Cg * L.sH * L.sW * L.plane * sizeof(float));
  for (size_t c = 0; c < L.Cg; ++c)
    for (size_t ih = 0; ih < p.H; ++ih) {
      const float* src = xg + (c * p.H + ih) * p.W;
      float* d = xp + split_index(p, L, c, ih, 0);
      if (L.sW == 1) {
        std::memcpy(d, src, p.W * sizeof(float));
      } else {
        for (size_t iw = 0; iw < p.W; ++iw) xp[split_index(p, L, c, ih, iw)] = src[iw];
      }
    }
}

// dxg = the image part of the split image xp (the padding's gradient is dropped).
void merge_image(const Conv2dParams& p, const Layout& L, size_t c0, size_t c1, const float* xp, float* dxg) {
  for (size_t c = c0; c < c1; ++c)
    for (size_t ih = 0; ih < p.H; ++ih) {
      float* d = dxg + (c * p.H + ih) * p.W;
      if (L.sW == 1) {
        std::memcpy(d, xp + split_index(p, L, c, ih, 0), p.W * sizeof(float));
      } else {
        for (size_t iw = 0; iw < p.W; ++iw) d[iw] = xp[split_index(p, L, c, ih, iw)];
      }
    }
}

// dY of one image and group as [Mg, Np] rows of plane width. Returns dyg itself when the rows have
// no filler columns, else a copy in `buf` with the filler zeroed (so filler columns add nothing).
const float* widen_dy(const Layout& L, const float* dyg, float* buf) {
  if (L.Wq == L.OW) return dyg;
  for (size_t m = 0; m < L.Mg; ++m) {
    float* d = buf + m * L.Np;
    for (size_t oh = 0; oh < L.OH; ++oh) {
      std::memcpy(d + oh * L.Wq, dyg + m * L.OHW + oh * L.OW, L.OW * sizeof(float));
      if (oh + 1 < L.OH) std::memset(d + oh * L.Wq + L.OW, 0, (L.Wq - L.OW) * sizeof(float));
    }
  }
  return buf;
}

struct Scratch {
  ScratchBuffer obuf, xbuf, cbuf, dbuf;
  int64_t* offs = nullptr;
  bool init(const Conv2dParams& p, const Layout& L) {
    if (L.pointwise) return true;
    // Row offsets (int64) live in a float buffer: two floats per offset.
    if (!obuf.reserve(2 * L.Kg) || !cbuf.reserve(L.Kg * L.Np)) return false;
    if (!L.direct && !xbuf.reserve(L.Cg * L.sH * L.sW * L.plane)) return false;
    if (L.Wq != L.OW && !dbuf.reserve(L.Mg * L.Np)) return false;
    offs = reinterpret_cast<int64_t*>(obuf.data());
    tap_offsets(p, L, offs);
    return true;
  }
};

// For stride 1, the input gradient is itself a convolution: dy [N, outC, OH, OW] with the kernel
// flipped in space and its channel axes swapped (per group), padded by the dilated kernel extent
// minus the forward padding on each side. As a forward convolution it is one GEMM per image with
// the long reduction (outC/g * kH * kW) inside the microkernel, instead of the transposed GEMM's
// short one (outC/g) whose kH*kW times larger output is then added back tap by tap (col2im):
// ResNet-18's 3x3 layers at 16x16 run ~2x faster this way. The convolution's GEMM has one row per
// input channel, though: with few of them (LeNet's second layer reads 6) its tiles are mostly
// empty and the transposed GEMM + col2im wins (1.7x there), so few channels keep that.
constexpr size_t kMinChannelsAsConv = 16;

bool backward_input_as_conv(const Conv2dParams& p) {
  if (p.strideH != 1 || p.strideW != 1) return false;
  if (p.C / p.groups < kMinChannelsAsConv) return false;
  if (p.kH == 1 && p.kW == 1 && p.padTop + p.padLeft + p.padBottom + p.padRight == 0) return false;  // one GEMM already
  const size_t extH = p.dilationH * (p.kH - 1), extW = p.dilationW * (p.kW - 1);
  return p.padTop <= extH && p.padBottom <= extH && p.padLeft <= extW && p.padRight <= extW;
}

Status backward_input_conv(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const size_t G = p.groups, Cg = p.C / G, Mg = p.outC / G, taps = p.kH * p.kW;
  ScratchBuffer wbuf;
  if (!wbuf.reserve(p.C * Mg * taps)) return Status::kOutOfMemory;
  // wt[g*Cg + c][o][t'] = w[g*Mg + o][c][taps - 1 - t]: [C, outC/g, kH, kW], groups as the forward's.
  float* wt = wbuf.data();
  for (size_t g = 0; g < G; ++g)
    for (size_t o = 0; o < Mg; ++o)
      for (size_t c = 0; c < Cg; ++c) {
        const float* src = w + ((g * Mg + o) * Cg + c) * taps;
        float* dst = wt + ((g * Cg + c) * Mg + o) * taps;
        for (size_t t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
      }
  Conv2dParams q = p;
  q.C = p.outC;
  q.outC = p.C;
  size_t OH = 0, OW = 0;
  conv2d_output_size(p, &OH, &OW);
  q.H = OH;
  q.W = OW;
  const size_t extH = p.dilationH * (p.kH - 1), extW = p.dilationW * (p.kW - 1);
  q.padTop = extH - p.padTop;
  q.padBottom = extH - p.padBottom;
  q.padLeft = extW - p.padLeft;
  q.padRight = extW - p.padRight;
  q.act = 0;
  return conv2d(q, dy, wt, nullptr, dx);
}

// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr WeightDotFn kWeightDot[] = {conv_weight_dot_scalar, conv_weight_dot_avx2, conv_weight_dot_avx512,
                                      conv_weight_dot_scalar};
#elif SIMDCNN_ARM64
constexpr WeightDotFn kWeightDot[] = {conv_weight_dot_scalar, conv_weight_dot_scalar, conv_weight_dot_scalar,
                                      conv_weight_dot_neon};
#else
constexpr WeightDotFn kWeightDot[] = {conv_weight_dot_scalar, conv_weight_dot_scalar, conv_weight_dot_scalar,
                                      conv_weight_dot_scalar};
#endif

// Small output maps (im2col_batch.h): dw_g = dY_g * cols_g^T with the images of a group side by
// side in both, so the reduction runs over nb * OHW columns in one GEMM (instead of a GEMM of K =
// OHW per image accumulating into all of dw). Groups of images add into dw in order.
Status backward_weight_small_maps(const Conv2dParams& p, size_t OH, size_t OW, const float* x, const float* dy,
                                  float* dw) {
  const size_t G = p.groups, Cg = p.C / G, Mg = p.outC / G, Kg = Cg * p.kH * p.kW, OHW = OH * OW;
  const size_t nb_max = small_map_images(p, OHW);
  ScratchBuffer cbuf, dbuf;
  if (!cbuf.reserve(Kg * nb_max * OHW) || !dbuf.reserve(Mg * nb_max * OHW)) return Status::kOutOfMemory;
  for (size_t n0 = 0; n0 < p.N; n0 += nb_max) {
    const size_t nb = std::min(nb_max, p.N - n0), ld = nb * OHW;
    for (size_t g = 0; g < G; ++g) {
      im2col_batch(p, OH, OW, x, n0, nb, g, cbuf.data(), true);
      for (size_t m = 0; m < Mg; ++m)
        for (size_t i = 0; i < nb; ++i)
          std::memcpy(dbuf.data() + m * ld + i * OHW, dy + ((n0 + i) * p.outC + g * Mg + m) * OHW, OHW * sizeof(float));
      GemmEpilogue ep;
      ep.accumulate = n0 > 0;
      const Status s = gemm(Mg, Kg, ld, dbuf.data(), ld, false, cbuf.data(), ld, true, dw + g * Mg * Kg, Kg, ep);
      if (s != Status::kOk) return s;
    }
  }
  return Status::kOk;
}

// Small output maps, strided (im2col_batch.h): cols = W_g^T * dY_g with the images of a group side
// by side (one GEMM), then each column added onto the input pixel its tap read. Threads split the
// channels; within one, taps and then images add in a fixed order.
Status backward_input_small_maps(const Conv2dParams& p, size_t OH, size_t OW, const float* dy, const float* w,
                                 float* dx) {
  const size_t G = p.groups, Cg = p.C / G, Mg = p.outC / G, taps = p.kH * p.kW, Kg = Cg * taps;
  const size_t OHW = OH * OW, HW = p.H * p.W, nb_max = small_map_images(p, OHW);
  ScratchBuffer cbuf, dbuf;
  if (!cbuf.reserve(Kg * nb_max * OHW) || !dbuf.reserve(Mg * nb_max * OHW)) return Status::kOutOfMemory;
  for (size_t n0 = 0; n0 < p.N; n0 += nb_max) {
    const size_t nb = std::min(nb_max, p.N - n0), ld = nb * OHW;
    for (size_t g = 0; g < G; ++g) {
      for (size_t m = 0; m < Mg; ++m)
        for (size_t i = 0; i < nb; ++i)
          std::memcpy(dbuf.data() + m * ld + i * OHW, dy + ((n0 + i) * p.outC + g * Mg + m) * OHW, OHW * sizeof(float));
      const Status s = gemm(Kg, ld, Mg, w + g * Mg * Kg, Kg, true, dbuf.data(), ld, false, cbuf.data(), ld, GemmEpilogue{});
      if (s != Status::kOk) return s;
      parallel_for(Cg, 1, [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c) {
          for (size_t i = 0; i < nb; ++i) std::memset(dx + ((n0 + i) * p.C + g * Cg + c) * HW, 0, HW * sizeof(float));
          for (size_t t = 0; t < taps; ++t) {
            const size_t kh = t / p.kW, kw = t % p.kW;
            const float* src = cbuf.data() + (c * taps + t) * ld;
            for (size_t i = 0; i < nb; ++i) {
              float* plane = dx + ((n0 + i) * p.C + g * Cg + c) * HW;
              for (size_t oh = 0; oh < OH; ++oh) {
                const int64_t ih = static_cast<int64_t>(oh * p.strideH + kh * p.dilationH) - static_cast<int64_t>(p.padTop);
                if (ih < 0 || ih >= static_cast<int64_t>(p.H)) continue;
                const float* srow = src + i * OHW + oh * OW;
                float* drow = plane + static_cast<size_t>(ih) * p.W;
                for (size_t ow = 0; ow < OW; ++ow) {
                  const int64_t iw = static_cast<int64_t>(ow * p.strideW + kw * p.dilationW) - static_cast<int64_t>(p.padLeft);
                  if (iw >= 0 && iw < static_cast<int64_t>(p.W)) drow[iw] += srow[ow];
                }
              }
            }
          }
        }
      });
    }
  }
  return Status::kOk;
}

}  // namespace

Status conv2d_backward_input(const Conv2dParams& params, const float* dy, const float* w, float* dx) {
  Conv2dParams p = params;
  p.act = 0;
  size_t OH = 0, OW = 0;
  if (!conv2d_output_size(p, &OH, &OW) || !dy || !w || !dx) return Status::kInvalidArgument;
  if (backward_input_as_conv(p)) return backward_input_conv(p, dy, w, dx);
  if (small_maps(p, OH, OW)) return backward_input_small_maps(p, OH, OW, dy, w, dx);
  const Layout L = make_layout(p, OH, OW);
  const size_t G = p.groups;

  auto run_one = [&](size_t n, size_t g, bool threads) -> Status {
    const float* wg = w + g * L.Mg * L.Kg;  // [Mg, Kg]: A = wg^T
    const float* dyg = dy + (n * p.outC + g * L.Mg) * L.OHW;
    float* dxg = dx + (n * p.C + g * L.Cg) * L.HW;
    if (L.pointwise)
      return gemm(L.Cg, L.HW, L.Mg, wg, L.Kg, true, dyg, L.HW, false, dxg, L.HW, GemmEpilogue{});
    Scratch s;
    if (!s.init(p, L)) return Status::kOutOfMemory;
    const float* B = widen_dy(L, dyg, s.dbuf.data());
    float* cols = s.cbuf.data();
    const Status st = gemm(L.Kg, L.Np, L.Mg, wg, L.Kg, true, B, L.Np, false, cols, L.Np, GemmEpilogue{});
    if (st != Status::kOk) return st;
    float* xp = L.direct ? dxg : s.xbuf.data();
    const size_t taps = p.kH * p.kW, cplane = L.sH * L.sW * L.plane;
    // Channels own disjoint planes, so they may run in parallel; within one, taps add in order.
    auto col2im = [&](size_t c0, size_t c1) {
      std::memset(xp + c0 * cplane, 0, (c1 - c0) * cplane * sizeof(float));
      for (size_t k = c0 * taps; k < c1 * taps; ++k) {
        float* d = xp + s.offs[k];
        const float* src = cols + k * L.Np;
        for (size_t j = 0; j < L.Np; ++j) d[j] += src[j];
      }
      if (!L.direct) merge_image(p, L, c0, c1, xp, dxg);
    };
    if (threads) {
      parallel_for(L.Cg, 1, [&](size_t c0, size_t c1) { col2im(c0, c1); });
    } else {
      col2im(0, L.Cg);
    }
    return Status::kOk;
  };

  const double per_job = static_cast<double>(L.Mg) * static_cast<double>(L.Np) * static_cast<double>(L.Kg);
  return run_conv_jobs(p.N * G, per_job, [&](size_t t, bool threads) { return run_one(t / G, t % G, threads); });
}

Status conv2d_backward_weight(const Conv2dParams& params, const float* x, const float* dy, float* dw) {
  Conv2dParams p = params;
  p.act = 0;
  size_t OH = 0, OW = 0;
  if (!conv2d_output_size(p, &OH, &OW) || !x || !dy || !dw) return Status::kInvalidArgument;
  if (small_maps(p, OH, OW)) return backward_weight_small_maps(p, OH, OW, x, dy, dw);
  const Layout L = make_layout(p, OH, OW);
  const size_t G = p.groups, wg_size = L.Mg * L.Kg;

  // Images are split into a number of chunks fixed by the geometry (never by the thread count);
  // chunk 0 accumulates straight into dw, the others into private partials added in chunk order.
  constexpr size_t kMaxChunks = 8;
  const double per_image = static_cast<double>(L.Mg) * static_cast<double>(L.Np) * static_cast<double>(L.Kg);
  const bool big = per_image >= static_cast<double>(kGemmThreadingThreshold);
  const size_t chunks = big ? 1 : std::min(p.N, kMaxChunks);
  ScratchBuffer pbuf;
  if (chunks > 1 && !pbuf.reserve((chunks - 1) * G * wg_size)) return Status::kOutOfMemory;

  // Few weights per group: dot products over the pixels instead of a GEMM (conv_weight_dot.h).
  const WeightDotFn dot = wg_size <= kWeightDotMaxOutputs && L.Np >= kWeightDotMinPixels
                              ? kWeightDot[static_cast<int>(active_isa())] : nullptr;

  auto run_chunk = [&](size_t g, size_t chunk) -> Status {
    const size_t n0 = p.N * chunk / chunks, n1 = p.N * (chunk + 1) / chunks;
    float* target = chunk == 0 ? dw + g * wg_size : pbuf.data() + ((chunk - 1) * G + g) * wg_size;
    Scratch s;
    if (!s.init(p, L)) return Status::kOutOfMemory;
    for (size_t n = n0; n < n1; ++n) {
      const float* xg = x + (n * p.C + g * L.Cg) * L.HW;
      const float* dyg = dy + (n * p.outC + g * L.Mg) * L.OHW;
      GemmEpilogue ep;
      ep.accumulate = n > n0;
      Status st;
      if (L.pointwise) {
        st = gemm(L.Mg, L.Kg, L.HW, dyg, L.HW, false, xg, L.HW, true, target, L.Kg, ep);
      } else {
        const float* xp = xg;
        if (!L.direct) {
          split_image(p, L, xg, s.xbuf.data());
          xp = s.xbuf.data();
        }
        const float* A = widen_dy(L, dyg, s.dbuf.data());
        if (dot) {
          dot(A, L.Mg, xp, s.offs, L.Kg, L.Np, target, L.Kg, ep.accumulate);
          st = Status::kOk;
        } else {
          float* cols = s.cbuf.data();
          for (size_t k = 0; k < L.Kg; ++k) std::memcpy(cols + k * L.Np, xp + s.offs[k], L.Np * sizeof(float));
          st = gemm(L.Mg, L.Kg, L.Np, A, L.Np, false, cols, L.Np, true, target, L.Kg, ep);
        }
      }
      if (st != Status::kOk) return st;
    }
    return Status::kOk;
  };

  if (big) {
    // One image's GEMM is big enough to split across threads inside.
    for (size_t g = 0; g < G; ++g) {
      const Status s = run_chunk(g, 0);
      if (s != Status::kOk) return s;
    }
    return Status::kOk;
  }
  std::atomic<bool> failed{false};
  parallel_for(G * chunks, 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t)
      if (run_chunk(t / chunks, t % chunks) != Status::kOk) failed.store(true, std::memory_order_relaxed);
  });
  if (failed.load()) return Status::kOutOfMemory;
  if (chunks > 1) {
    const size_t total = G * wg_size;
    parallel_for(total, 4096, [&](size_t i0, size_t i1) {
      for (size_t c = 1; c < chunks; ++c) {
        const float* part = pbuf.data() + (c - 1) * total;
        for (size_t i = i0; i < i1; ++i) dw[i] += part[i];
      }
    });
  }
  return Status::kOk;
}

}  // namespace simdcnn
