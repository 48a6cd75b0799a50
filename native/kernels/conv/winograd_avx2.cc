// Compiled with -mavx2 -mfma; called only when active_isa() is avx2.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/conv/winograd_impl.h"

namespace simdcnn {

void winograd_input_avx2(const WinogradInArgs& a) {
  winograd_impl::input_transform_any<vec::VecAvx2, winograd_impl::ShufAvx2>(a);
}

void winograd_output_avx2(const WinogradOutArgs& a) {
  winograd_impl::output_transform<vec::VecAvx2, winograd_impl::ShufAvx2>(a);
}

}  // namespace simdcnn
#endif
