// Elementwise activations over a flat float32 array (PyTorch semantics; NaN propagates).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// Codes match the addon's `unary` kind argument.
enum class UnaryKind : int { kRelu = 0, kLeakyRelu = 1, kSigmoid = 2, kTanh = 3 };

// y[i] = f(x[i]) for i < n. x == y (in place) is allowed. alpha is leakyRelu's slope.
Status unary(const float* x, float* y, int64_t n, UnaryKind kind, float alpha);

// Per-ISA range kernels (unary_<isa>.cc); the dispatcher picks one with active_isa().
using UnaryRangeFn = void (*)(const float* x, float* y, size_t n, UnaryKind kind, float alpha);
void unary_range_scalar(const float* x, float* y, size_t n, UnaryKind kind, float alpha);
void unary_range_avx2(const float* x, float* y, size_t n, UnaryKind kind, float alpha);
void unary_range_avx512(const float* x, float* y, size_t n, UnaryKind kind, float alpha);

}  // namespace simdcnn
