// Optimiser updates over every parameter of a model in one call (a captured training step replays
// it). The hyper-parameters are read from an array when the kernel runs, so a replay picks up a
// new learning rate or step count. Per element in float32, each operation rounding once, the
// scalar kernel's bits on every ISA and at any thread count.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace simdcnn {

// One parameter's arrays: n floats each; state arrays the optimiser does not use are null.
struct OptimSlot {
  float* w;
  const float* g;
  float* s0;  // SGD: the momentum buffer (null: no momentum); Adam: the first moment m
  float* s1;  // Adam: the second moment v
  size_t n;
};

constexpr int kSgdHyperCount = 6;   // lr, momentum, dampening, weightDecay, nesterov, firstStep
constexpr int kAdamHyperCount = 7;  // lr, beta1, beta2, eps, weightDecay, c1 = 1 - beta1^t, c2 = 1 - beta2^t

// torch.optim.SGD: d = g + wd * w; with a buffer buf = firstStep ? d : momentum * buf + (1 - dampening) * d,
// d = nesterov ? d + momentum * buf : buf; then w = w - lr * d. nesterov and firstStep are true
// when non-zero.
Status sgd_step(const OptimSlot* slots, size_t count, const float* hyper);

// Adam (lib/optim/adam.ts): d = g + wd * w; m = b1 * m + (1 - b1) * d; v = b2 * v + (1 - b2) * d * d;
// w = w - lr * (m / c1) / (sqrt(v / c2) + eps).
Status adam_step(const OptimSlot* slots, size_t count, const float* hyper);

// The hyper-parameters as the per-ISA kernels take them (1 - momentum etc. formed once, in float32).
struct SgdHyper {
  float lr, momentum, keep_d /* 1 - dampening */, wd;
  bool nesterov, first;
};
struct AdamHyper {
  float lr, b1, one_minus_b1, b2, one_minus_b2, eps, wd, c1, c2;
};

// Per-ISA range kernels (optim_<isa>.cc): elements [0, n) of one slot's arrays.
using SgdRangeFn = void (*)(float* w, const float* g, float* buf, size_t n, const SgdHyper& h);
using AdamRangeFn = void (*)(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h);
void sgd_range_scalar(float* w, const float* g, float* buf, size_t n, const SgdHyper& h);
void sgd_range_avx2(float* w, const float* g, float* buf, size_t n, const SgdHyper& h);
void sgd_range_avx512(float* w, const float* g, float* buf, size_t n, const SgdHyper& h);
void sgd_range_neon(float* w, const float* g, float* buf, size_t n, const SgdHyper& h);
void adam_range_scalar(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h);
void adam_range_avx2(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h);
void adam_range_avx512(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h);
void adam_range_neon(float* w, const float* g, float* m, float* v, size_t n, const AdamHyper& h);

}  // namespace simdcnn
