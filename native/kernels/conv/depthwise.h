// Depthwise convolution, planes (image n, output channel oc) at a time:
//   out[n, oc] = act(bias[oc] + sum_{kh,kw} w[oc, kh, kw] * x[n, oc / mult][oh*sH - pT + kh*dH, ow*sW - pL + kw*dW])
// with zeros outside the input. Every element accumulates bias first, then (kh, kw) in
// increasing order, one FMA per tap.
//
// How: bands of output rows. A band's input rows are copied once into zero-padded, stride-phase
// split planes (phase (ph, pw) holds padded(y*sH + ph, x*sW + pw), Wq = OW + (kW-1)*dW/sW wide),
// so that output (r, ow) of the band, numbered i = r*Wq + ow, reads tap (kh, kw) at the one
// offset off(kh, kw) + i whatever the stride, dilation or padding (the idea of conv2d.cc's
// implicit im2col): each output row is a loop of contiguous vector loads with no border cases,
// stored straight into the output with the last vector masked; rows narrower than a vector are
// computed as one flat run over the band and copied out. 3x3 and 5x5 have their own
// instantiation (taps unrolled, weights in registers). The band geometry and tap offsets are
// computed once per call, not per plane (MobileNet's 7x7 planes are a few hundred FMAs each).
// ReLU and Clip (ReLU6) are a clamp in registers; other activations run over each finished plane.
#pragma once
#include <algorithm>
#include <cstddef>

#include "core/arch.h"

namespace simdcnn {

struct DwArgs {
  const float* x;     // [N, C, H, W]
  const float* w;     // [outC, kH, kW]
  const float* bias;  // [outC] or null
  float* out;         // [N, outC, OH, OW]
  size_t C, mult;     // outC = C * mult
  size_t H, W, kH, kW, OH, OW;
  size_t sH, sW, pT, pL, dH, dW;
  float lo, hi;                  // out = min(hi, max(lo, .)), NaN kept; -inf, +inf for none
  int act;                       // then this activation code (act/unary.h), 0 for none
  float act_alpha, act_beta;
};

// The vector loop may read this many floats past a band's planes (one vector of the widest ISA).
constexpr size_t kDwSlack = 16;
// Input planes of one band, in floats: they stay in L1 while every tap reads them.
constexpr size_t kDwBandFloats = 8192;

struct DwBand {
  size_t rows;         // output rows per band (the last band may have fewer)
  size_t qh, qw;       // largest tap offset in phase rows / columns
  size_t Hq, Wq;       // one phase plane of a band
  size_t phases;       // sH * sW
  size_t header_floats;  // the scratch starts with the taps' input pointers and the phase columns
  size_t in_floats;    // the phase planes (then rows * Wq floats of outputs, for narrow planes)
  size_t scratch_floats;
};

// The band geometry, the same for every ISA (the dispatcher sizes the scratch with it).
inline DwBand dw_band(const DwArgs& a) {
  DwBand b;
  b.qh = (a.kH - 1) * a.dH / a.sH;
  b.qw = (a.kW - 1) * a.dW / a.sW;
  b.Wq = a.OW + b.qw;
  b.phases = a.sH * a.sW;
  const size_t per_row = b.phases * b.Wq, fixed = b.phases * b.qh * b.Wq;
  size_t rows = kDwBandFloats > fixed + per_row ? (kDwBandFloats - fixed) / per_row : 1;
  rows = std::min(std::max<size_t>(rows, 1), a.OH);
  const size_t bands = (a.OH + rows - 1) / rows;
  b.rows = (a.OH + bands - 1) / bands;  // even bands
  b.Hq = b.rows + b.qh;
  // Tap pointers and two size_t per phase column; a multiple of 64 bytes keeps the planes aligned.
  b.header_floats = ((a.kH * a.kW + 2 * a.sW) * sizeof(size_t) + 63) / 64 * 16;
  b.in_floats = b.phases * b.Hq * b.Wq + b.Wq + kDwSlack;
  b.scratch_floats = b.header_floats + b.in_floats + b.rows * b.Wq + kDwSlack;
  return b;
}

// Output planes [t0, t1) (t = n * C * mult + oc); scratch: dw_band(a).scratch_floats floats,
// 64-byte aligned, owned by the caller (one per thread).
using DwPlanesFn = void (*)(const DwArgs& a, size_t t0, size_t t1, float* scratch);

void depthwise_planes_scalar(const DwArgs& a, size_t t0, size_t t1, float* scratch);
#if SIMDCNN_X86
void depthwise_planes_avx2(const DwArgs& a, size_t t0, size_t t1, float* scratch);
void depthwise_planes_avx512(const DwArgs& a, size_t t0, size_t t1, float* scratch);
#endif
#if SIMDCNN_ARM64
void depthwise_planes_neon(const DwArgs& a, size_t t0, size_t t1, float* scratch);
#endif

}  // namespace simdcnn
