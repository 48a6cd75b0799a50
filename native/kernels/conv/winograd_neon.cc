// NEON (AArch64 baseline, no extra flags); called only when active_isa() is neon.
#include "core/arch.h"
#if SIMDCNN_ARM64
#include "kernels/conv/winograd_impl.h"

namespace simdcnn {

void winograd_input_neon(const WinogradInArgs& a) {
  winograd_impl::input_transform_any<vec::VecNeon, winograd_impl::ShufNeon>(a);
}

void winograd_output_neon(const WinogradOutArgs& a) {
  winograd_impl::output_transform<vec::VecNeon, winograd_impl::ShufNeon>(a);
}

}  // namespace simdcnn
#endif
