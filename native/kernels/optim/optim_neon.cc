// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/optim/optim_impl.h"

namespace simdcnn {

void sgd_range_neon(float* w, const float* g, float* buf, size_t n, const SgdHyper& h) {
  optim_impl::sgd_range<vec::VecNeon>(w, g, buf, n, h);
}

void adam_range_neon(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h) {
  optim_impl::adam_range<vec::VecNeon>(w, g, m, v, n, h);
}

}  // namespace simdcnn
#endif
