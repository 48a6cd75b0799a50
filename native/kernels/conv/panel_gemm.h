// Channel panels: the weight layout and tile sweep that conv2d_packed and the Winograd GEMMs share.
//
// A K x n weight matrix (element (j, k): output j, reduction index k) is packed into panels of NR
// outputs (AVX-512 32, AVX2 16, NEON 12, scalar 8): panel p holds outputs [p*NR, p*NR + w) as K rows of
// nr = round_up(w, VS) floats (zeros past w), and starts at float p*NR*K. The microkernel of the
// active ISA (conv2d_packed_ukernel.h) computes MR pixels x nr outputs of such a panel per call.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dispatch.h"
#include "kernels/conv/conv2d_packed_ukernel.h"

namespace simdcnn {

struct PanelTileConfig {
  ConvTileFn fn;
  size_t mr, nr;
  size_t vs;        // panel widths are multiples of vs (the last panel is round_up(rest, vs) wide)
  size_t kc;        // K block: its kc x nr weights and ~kc lines of input per tile stay in L1
  size_t mp_block;  // tiles per conv2d_packed task
  size_t np_block;  // panels per conv2d_packed task
};

// The active ISA's tile configuration (and the ISA, when isa_out is not null).
const PanelTileConfig& panel_tile_config(Isa* isa_out = nullptr);

// Floats of K x n weights in panels on the active ISA: K * round_up(n, VS), 0 on overflow past
// kMaxElements.
size_t panel_floats(size_t K, size_t n);

// Packs w (element (j, k) at w[j*ldw + k], j < n, k < K) into panel_floats(K, n) floats at dst.
void pack_panels(const float* w, size_t ldw, size_t K, size_t n, float* dst);

// Element (j, k) of panels packed by pack_panels (for tests and checks).
float panel_element(const float* panels, size_t K, size_t n, size_t j, size_t k);

// Work space of panel_gemm for m pixels and K: panel_gemm_work_floats(m, K) floats.
size_t panel_gemm_work_floats(size_t m, size_t K);

// out[j*ldo + i] = sum_{k<K} x[k*ldx + i] * W(j, k) for pixels i < m and outputs j < n, with W
// packed by pack_panels(K, n). Each output is one FMA chain over k in increasing order (partial
// sums between K blocks go through `work` exactly), so the result depends only on K's blocking,
// which depends only on K. work: panel_gemm_work_floats(m, K) floats.
void panel_gemm(const float* x, size_t ldx, size_t m, size_t K, const float* panels, size_t n, float* out,
                size_t ldo, float* work);

}  // namespace simdcnn
