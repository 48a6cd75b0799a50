#include "kernels/norm/affine.h"

#include "core/arch.h"
#include "core/dispatch.h"

namespace simdcnn {

namespace {
// Indexed by Isa: scalar, avx2, avx512, neon (slots of ISAs the target cannot run hold scalar).
#if SIMDCNN_X86
constexpr AffineKernels kAffineTable[] = {
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_avx2, affine_row_avx2, affine_grad_avx2},
    {affine_plane_avx512, affine_row_avx512, affine_grad_avx512},
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar}};
#elif SIMDCNN_ARM64
constexpr AffineKernels kAffineTable[] = {
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_neon, affine_row_neon, affine_grad_neon}};
#else
constexpr AffineKernels kAffineTable[] = {
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar},
    {affine_plane_scalar, affine_row_scalar, affine_grad_scalar}};
#endif
}  // namespace

AffineKernels affine_kernels() { return kAffineTable[static_cast<int>(active_isa())]; }

}  // namespace simdcnn
