// Compiled with -mavx512f; called only when active_isa() is avx512.
#include "core/arch.h"
#if SIMDCNN_X86
#include "kernels/conv/winograd_impl.h"

namespace simdcnn {

void winograd_input_avx512(const WinogradInArgs& a) {
  winograd_impl::input_transform_any<vec::VecAvx512, winograd_impl::ShufAvx512>(a);
}

void winograd_output_avx512(const WinogradOutArgs& a) {
  winograd_impl::output_transform<vec::VecAvx512, winograd_impl::ShufAvx512>(a);
}

}  // namespace simdcnn
#endif
