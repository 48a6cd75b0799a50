// The depthwise plane loop, shared by the per-ISA files; V supplies the row primitives
// (fill, axpy, relu) in that ISA. Included only by depthwise_*.cc.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/conv/depthwise.h"

namespace simdcnn {
namespace dw_detail {

template <class V>
inline void depthwise_plane(const DwPlaneArgs& a) {
  const int64_t W = static_cast<int64_t>(a.W), H = static_cast<int64_t>(a.H);
  const int64_t OW = static_cast<int64_t>(a.OW), sW = static_cast<int64_t>(a.sW);
  for (size_t oh = 0; oh < a.OH; ++oh) {
    float* o = a.out + oh * a.OW;
    V::fill(o, a.bias, a.OW);
    for (size_t kh = 0; kh < a.kH; ++kh) {
      const int64_t ih = static_cast<int64_t>(oh * a.sH + kh * a.dH) - static_cast<int64_t>(a.pT);
      if (ih < 0 || ih >= H) continue;
      const float* row = a.in + ih * W;
      for (size_t kw = 0; kw < a.kW; ++kw) {
        const float wv = a.k[kh * a.kW + kw];
        const int64_t off = static_cast<int64_t>(kw * a.dW) - static_cast<int64_t>(a.pL);
        // ow is valid when 0 <= ow*sW + off <= W-1.
        const int64_t lo = off >= 0 ? 0 : (-off + sW - 1) / sW;
        int64_t hi = W - 1 - off >= 0 ? (W - 1 - off) / sW + 1 : 0;
        if (hi > OW) hi = OW;
        if (lo >= hi) continue;
        if (sW == 1) {
          V::axpy(o + lo, row + lo + off, wv, static_cast<size_t>(hi - lo));
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) o[ow] += wv * row[ow * sW + off];
        }
      }
    }
    if (a.relu) V::relu(o, a.OW);
  }
}

}  // namespace dw_detail
}  // namespace simdcnn
