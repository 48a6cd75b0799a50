// Elementwise activations over a flat float32 array (PyTorch semantics; NaN propagates).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// Codes match the addon's `unary` kind argument. The kinds from kClip on are inference-only (the
// graph compiler's activations that a kernel epilogue does not apply): no backward.
enum class UnaryKind : int {
  kRelu = 0,
  kLeakyRelu = 1,    // v > 0 ? v : alpha * v
  kSigmoid = 2,
  kTanh = 3,
  kClip = 4,         // min(max(v, alpha), beta)
  kSilu = 5,         // v * sigmoid(v)
  kHardSigmoid = 6,  // max(0, min(1, alpha * v + beta))
  kHardSwish = 7,    // v * max(0, min(1, v / 6 + 1/2))
  kSqrt = 8,
  kErf = 9,
  kGelu = 10,        // v/2 * (1 + erf(v / sqrt 2))
};
constexpr int kUnaryKindCount = 11;

// y[i] = f(x[i]) for i < n. x == y (in place) is allowed. alpha, beta: the kind's parameters.
Status unary(const float* x, float* y, int64_t n, UnaryKind kind, float alpha, float beta = 0.0f);

// Per-ISA range kernels (unary_<isa>.cc); the dispatcher picks one with active_isa().
using UnaryRangeFn = void (*)(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta);
void unary_range_scalar(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta);
void unary_range_avx2(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta);
void unary_range_avx512(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta);
void unary_range_neon(const float* x, float* y, size_t n, UnaryKind kind, float alpha, float beta);

// The activation a convolution or dense kernel applies to its finished outputs, after bias and
// residual: code 0 none, 1 + UnaryKind otherwise (so 1 is ReLU, which the GEMM and packed
// microkernels apply in registers; other kinds run over each finished output block while it is
// still in cache, instead of as a separate pass over memory).
constexpr int kActCodeCount = kUnaryKindCount + 1;

// ReLU and Clip (ReLU6) as the clamp min(hi, max(lo, v)) a kernel applies in registers (NaN kept:
// the x86 max/min return their second operand for NaN, and so do the scalar kernels' compares);
// `on` is false for every other code.
struct ActClamp {
  bool on;
  float lo, hi;
};
inline ActClamp act_clamp(int act, float alpha, float beta) {
  constexpr float inf = __builtin_huge_valf();
  if (act == 1) return ActClamp{true, 0.0f, inf};
  if (act == 1 + static_cast<int>(UnaryKind::kClip)) return ActClamp{true, alpha, beta};
  return ActClamp{false, -inf, inf};
}
inline bool act_code_valid(int code) { return code >= 0 && code < kActCodeCount; }
// y[0..n) = act(y) in place, on the calling thread (the caller is inside its own parallel loop).
void apply_act(int code, float alpha, float beta, float* y, size_t n);

}  // namespace simdcnn
