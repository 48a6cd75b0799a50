// Small output maps: the batch folded into the GEMM's columns. A per-image GEMM over an output map
// of a few pixels (ResNet's last stages: 4x4, 2x2 at 64x64 inputs; 7x7 at 224) has a handful of
// columns, so it streams the whole weight matrix once per image at a few percent of the FMA peak
// (512->512 3x3 at 2x2, batch 16: 13 GFLOP/s). Laying out the im2col columns of a group of images
// side by side, j = (n - n0) * OHW + oh * OW + ow, makes one GEMM with nb times the columns: the
// weights are read once per group of images, and the microkernel's tiles are full.
// Used by the forward convolution and the weight gradient (kernels/conv/conv2d*.cc).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/conv/conv2d.h"

namespace simdcnn {
namespace {

// Maps below this many pixels per image take the batched path (when there are several images).
constexpr size_t kSmallMapPixels = 64;
// Columns per batched GEMM (images grouped to about this many), and the cap on a group's column
// matrix (Kg x columns floats).
constexpr size_t kBatchColumns = 512;
constexpr size_t kBatchColsFloats = size_t{1} << 22;

inline bool small_maps(const Conv2dParams& p, size_t OH, size_t OW) {
  return p.N > 1 && OH * OW < kSmallMapPixels && !(p.groups == p.C && p.groups > 1);
}

// Images per batched GEMM: a function of the geometry only (never of the thread count).
inline size_t small_map_images(const Conv2dParams& p, size_t OHW) {
  const size_t Kg = p.C / p.groups * p.kH * p.kW;
  size_t nb = std::max<size_t>(1, kBatchColumns / OHW);
  nb = std::min(nb, std::max<size_t>(1, kBatchColsFloats / std::max<size_t>(1, Kg * OHW)));
  return std::min(nb, p.N);
}

// cols[k][j] (ld = nb * OHW) for images [n0, n0 + nb) of group g: k = (c, kh, kw) over the group's
// Cg channels, the tap's input pixel or 0 in the padding. Rows are independent (threads split them).
inline void im2col_batch(const Conv2dParams& p, size_t OH, size_t OW, const float* x, size_t n0, size_t nb,
                         size_t g, float* cols, bool threads) {
  const size_t Cg = p.C / p.groups, taps = p.kH * p.kW, OHW = OH * OW, ld = nb * OHW, HW = p.H * p.W;
  auto rows = [&](size_t k0, size_t k1) {
    for (size_t k = k0; k < k1; ++k) {
      const size_t c = k / taps, kh = k % taps / p.kW, kw = k % p.kW;
      float* dst = cols + k * ld;
      for (size_t i = 0; i < nb; ++i) {
        const float* src = x + ((n0 + i) * p.C + g * Cg + c) * HW;
        for (size_t oh = 0; oh < OH; ++oh) {
          const int64_t ih = static_cast<int64_t>(oh * p.strideH + kh * p.dilationH) - static_cast<int64_t>(p.padTop);
          float* d = dst + i * OHW + oh * OW;
          if (ih < 0 || ih >= static_cast<int64_t>(p.H)) {
            std::fill(d, d + OW, 0.0f);
            continue;
          }
          const float* srow = src + static_cast<size_t>(ih) * p.W;
          for (size_t ow = 0; ow < OW; ++ow) {
            const int64_t iw = static_cast<int64_t>(ow * p.strideW + kw * p.dilationW) - static_cast<int64_t>(p.padLeft);
            d[ow] = iw >= 0 && iw < static_cast<int64_t>(p.W) ? srow[iw] : 0.0f;
          }
        }
      }
    }
  };
  const size_t Kg = Cg * taps;
  if (threads)
    parallel_for(Kg, std::max<size_t>(1, (size_t{1} << 14) / std::max<size_t>(1, ld)), [&](size_t b, size_t e) { rows(b, e); });
  else
    rows(0, Kg);
}

}  // namespace
}  // namespace simdcnn
