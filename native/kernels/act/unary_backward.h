// Gradients of the trainable activations (as lib/backend/js/activation-backward.ts).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// Codes match the addon's `unaryBackward` kind argument.
enum class UnaryBackwardKind : int {
  kRelu = 0,       // dx = x > 0 ? dy : 0   (0 at x = 0 and for NaN x, as PyTorch)
  kLeakyRelu = 1,  // dx = x > 0 ? dy : dy * alpha
  kSigmoid = 2,    // dx = dy * y * (1 - y)
  kTanh = 3,       // dx = dy * (1 - y) * (1 + y)   (= dy * (1 - y^2) without its cancellation)
  kReluOut = 4,    // dx = y > 0 ? dy : 0   (a ReLU fused into the producer: only its output is kept)
};
constexpr int kUnaryBackwardKindCount = 5;

// dx[i] for i < n from the forward input x, output y and upstream gradient dy (a kind reads x or
// y, not both). dx may be dy, x or y itself. Each operation rounds once, left to right as written.
Status unary_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n, UnaryBackwardKind kind,
                      float alpha);

// Per-ISA range kernels (unary_backward_<isa>.cc); the dispatcher picks one with active_isa().
using UnaryBackwardRangeFn = void (*)(const float* x, const float* y, const float* dy, float* dx, size_t n,
                                      UnaryBackwardKind kind, float alpha);
void unary_backward_range_scalar(const float* x, const float* y, const float* dy, float* dx, size_t n,
                                 UnaryBackwardKind kind, float alpha);
void unary_backward_range_avx2(const float* x, const float* y, const float* dy, float* dx, size_t n,
                               UnaryBackwardKind kind, float alpha);
void unary_backward_range_avx512(const float* x, const float* y, const float* dy, float* dx, size_t n,
                                 UnaryBackwardKind kind, float alpha);
void unary_backward_range_neon(const float* x, const float* y, const float* dy, float* dx, size_t n,
                               UnaryBackwardKind kind, float alpha);

}  // namespace simdcnn
