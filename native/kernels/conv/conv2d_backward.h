// Gradients of conv2d without its fused activation (autograd applies the activation's gradient
// first). Shapes as conv2d.h; p.act is ignored. Outputs are overwritten.
//   conv2d_backward_input:  dy [N, outC, OH, OW], w [outC, C/g, kH, kW] -> dx [N, C, H, W]
//   conv2d_backward_weight: x [N, C, H, W], dy [N, outC, OH, OW]        -> dw [outC, C/g, kH, kW]
// Both reuse the forward's zero-padded, stride-phase-split layout (conv2d.cc), in which the im2col
// row of every tap is one contiguous slice of the split image:
//   input:  cols[Kg, Np] = Wg^T * dY (GEMM with transA), then each cols row is added onto its slice
//           (col2im as contiguous vector adds, taps in increasing order), then the split image is
//           gathered back into dx; 1x1 stride-1 unpadded is one GEMM straight into dx.
//   weight: dw_g = sum over images of dY * cols^T (GEMM with transB, accumulating image by image).
// dY is viewed with rows as wide as a plane (zero in the discarded columns) so its columns line up
// with the slices. Results do not depend on the thread count: threads split images/groups or GEMM
// tiles, and the weight gradient splits the images into a geometry-fixed number of chunks whose
// private partial sums are added in chunk order.
#pragma once
#include <cstddef>

#include "core/status.h"
#include "kernels/conv/conv2d.h"

namespace simdcnn {

Status conv2d_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx);

Status conv2d_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw);

}  // namespace simdcnn
