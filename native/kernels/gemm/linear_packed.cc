// Dense layers from prepacked weights: panel gemv for a small batch, the GEMM (B panels sliced out
// of the packed weights) otherwise. See linear_packed.h.
#include "kernels/gemm/linear_packed.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "kernels/act/unary.h"
#include "kernels/gemm/gemm.h"

namespace simdcnn {
namespace {

const LinearPanelFn kPanel[] = {
    linear_panel_scalar,
#if SIMDCNN_X86
    linear_panel_avx2,
    linear_panel_avx512,
#else
    linear_panel_scalar,
    linear_panel_scalar,
#endif
#if SIMDCNN_ARM64
    linear_panel_neon,
#else
    linear_panel_scalar,  // neon: not this target
#endif
};

// Up to this batch the packed panels are streamed once with every row's chains in registers.
constexpr size_t kPanelMaxBatch = 4;

struct PackedB {
  const float* packed;
  size_t K, nr;
};

// The GEMM's kc x nr B panel for columns [n0, n0 + nc) is a contiguous slice of a packed panel.
void copy_packed_b(const void* ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, float* dst) {
  const PackedB& b = *static_cast<const PackedB*>(ctx);
  for (size_t j0 = 0; j0 < nc; j0 += nr)
    std::memcpy(dst + (j0 / nr) * kc * nr, b.packed + ((n0 + j0) / nr) * b.K * nr + k0 * nr, kc * nr * sizeof(float));
}

void bias_act(size_t rows, size_t cols, const float* b, int act, float alpha, float beta, float* y, size_t ldy) {
  const bool relu = act == 1;
  if (b || relu)
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < cols; ++j) {
        float v = y[r * ldy + j];
        if (b) v += b[j];
        if (relu && v < 0.0f) v = 0.0f;  // NaN propagates, as the GEMM epilogue
        y[r * ldy + j] = v;
      }
  if (act > 1)
    for (size_t r = 0; r < rows; ++r) apply_act(act, alpha, beta, y + r * ldy, cols);
}

}  // namespace

size_t linear_packed_size(size_t inF, size_t outF) {
  const size_t nr = gemm_active_nr();
  const size_t panels = (outF + nr - 1) / nr;
  if (inF != 0 && panels * nr > SIZE_MAX / inF) return 0;
  return panels * nr * inF;
}

Status linear_pack_weights(size_t inF, size_t outF, const float* w, float* packed) {
  if (!w || !packed || inF == 0 || outF == 0) return Status::kInvalidArgument;
  const size_t nr = gemm_active_nr(), panels = (outF + nr - 1) / nr;
  parallel_for(panels, std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(1, inF * nr)), [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) {
      float* dst = packed + p * inF * nr;
      for (size_t k = 0; k < inF; ++k)
        for (size_t j = 0; j < nr; ++j) {
          const size_t o = p * nr + j;
          dst[k * nr + j] = o < outF ? w[o * inF + k] : 0.0f;
        }
    }
  });
  return Status::kOk;
}

Status linear_packed(size_t N, size_t inF, size_t outF, const float* x, const float* packed, const float* b,
                     int act, float act_alpha, float act_beta, float* out) {
  if (N == 0 || outF == 0) return Status::kOk;
  if (!x || !packed || !out || inF == 0 || !act_code_valid(act)) return Status::kInvalidArgument;
  const size_t nr = gemm_active_nr(), panels = (outF + nr - 1) / nr;
  if (N <= kPanelMaxBatch) {
    const int isa = static_cast<int>(active_isa());
    const LinearPanelFn fn = kPanel[(isa >= 0 && isa < 4) ? isa : 0];
    // Threads split whole panels; waking a worker costs ~10-30 us, so >= 256K weights per task.
    const size_t grain = std::max<size_t>(1, (size_t{1} << 18) / std::max<size_t>(1, inF * nr));
    parallel_for(panels, grain, [&](size_t p0, size_t p1) {
      for (size_t p = p0; p < p1; ++p) {
        const size_t cols = std::min(nr, outF - p * nr);
        fn(inF, N, x, inF, packed + p * inF * nr, out + p * nr, outF, cols);
        bias_act(N, cols, b ? b + p * nr : nullptr, act, act_alpha, act_beta, out + p * nr, outF);
      }
    });
    return Status::kOk;
  }
  PackedA pa;
  const Status s = gemm_pack_a(N, inF, x, inF, false, &pa);
  if (s != Status::kOk) return s;
  PackedB pb{packed, inF, nr};
  GemmBPacker bp{copy_packed_b, &pb};
  GemmEpilogue ep;
  ep.col_bias = b;
  ep.act = act == 1 ? GemmAct::kRelu : GemmAct::kNone;
  if (act > 1) {
    ep.tile_act = act;
    ep.tile_act_alpha = act_alpha;
    ep.tile_act_beta = act_beta;
  }
  return gemm_packed_a_custom_b(pa, outF, bp, out, outF, ep, true);
}

}  // namespace simdcnn
