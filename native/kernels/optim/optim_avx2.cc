// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/optim/optim_impl.h"

namespace simdcnn {

void sgd_range_avx2(float* w, const float* g, float* buf, size_t n, const SgdHyper& h) {
  optim_impl::sgd_range<vec::VecAvx2>(w, g, buf, n, h);
}

void adam_range_avx2(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h) {
  optim_impl::adam_range<vec::VecAvx2>(w, g, m, v, n, h);
}

}  // namespace simdcnn
#endif
