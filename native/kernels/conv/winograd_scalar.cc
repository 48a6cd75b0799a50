// Winograd transforms, one lane at a time (the reference for the SIMD paths: same algorithm).
#include "kernels/conv/winograd_impl.h"

namespace simdcnn {

void winograd_input_scalar(const WinogradInArgs& a) {
  winograd_impl::input_transform_any<vec::VecScalar, winograd_impl::ShufScalar>(a);
}

void winograd_output_scalar(const WinogradOutArgs& a) {
  winograd_impl::output_transform<vec::VecScalar, winograd_impl::ShufScalar>(a);
}

}  // namespace simdcnn
