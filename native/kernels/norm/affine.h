// Per-ISA apply kernels shared by the norm ops (the statistics are computed in norm_stats.h).
#pragma once
#include <cstddef>

namespace simdcnn {

// y[i] = (x[i] - mean) * scale + shift
using AffinePlaneFn = void (*)(const float* x, float* y, size_t n, float mean, float scale, float shift);
// y[i] = (x[i] - mean) * rstd * w[i] + b[i]; w/b null mean 1/0.
using AffineRowFn = void (*)(const float* x, float* y, size_t n, float mean, float rstd,
                             const float* w, const float* b);

// dx[i] = a * dy[i] + b * (x[i] - mean) + c   (the batch-norm input gradient, per channel)
using AffineGradFn = void (*)(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b,
                              float c);

struct AffineKernels {
  AffinePlaneFn plane;
  AffineRowFn row;
  AffineGradFn grad;
};

// The kernels for active_isa().
AffineKernels affine_kernels();

void affine_plane_scalar(const float* x, float* y, size_t n, float mean, float scale, float shift);
void affine_plane_avx2(const float* x, float* y, size_t n, float mean, float scale, float shift);
void affine_plane_avx512(const float* x, float* y, size_t n, float mean, float scale, float shift);
void affine_plane_neon(const float* x, float* y, size_t n, float mean, float scale, float shift);
void affine_row_scalar(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b);
void affine_row_avx2(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b);
void affine_row_avx512(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b);
void affine_row_neon(const float* x, float* y, size_t n, float mean, float rstd, const float* w, const float* b);
void affine_grad_scalar(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c);
void affine_grad_avx2(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c);
void affine_grad_avx512(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c);
void affine_grad_neon(const float* x, const float* dy, float* dx, size_t n, float mean, float a, float b, float c);

}  // namespace simdcnn
