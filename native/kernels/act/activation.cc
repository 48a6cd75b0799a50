#include "kernels/act/activation.h"

#include <cmath>

namespace simdcnn {

// Scalar reference; the per-ISA unary kernels take over the hot kinds.
void apply_activation(float* y, size_t n, const Activation& a) {
  switch (a.kind) {
    case ActKind::kNone:
      return;
    case ActKind::kRelu:
      for (size_t i = 0; i < n; i++) y[i] = y[i] < 0.0f ? 0.0f : y[i];
      return;
    case ActKind::kLeakyRelu:
      for (size_t i = 0; i < n; i++) y[i] = y[i] < 0.0f ? y[i] * a.alpha : y[i];
      return;
    case ActKind::kClip:
      for (size_t i = 0; i < n; i++) {
        const float v = y[i];
        y[i] = v < a.alpha ? a.alpha : v > a.beta ? a.beta : v;
      }
      return;
    case ActKind::kSigmoid:
      for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + std::exp(-y[i]));
      return;
    case ActKind::kSilu:
      for (size_t i = 0; i < n; i++) y[i] = y[i] / (1.0f + std::exp(-y[i]));
      return;
    case ActKind::kHardSigmoid:
      for (size_t i = 0; i < n; i++) {
        const float v = a.alpha * y[i] + a.beta;
        y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
      }
      return;
    case ActKind::kHardSwish:
      for (size_t i = 0; i < n; i++) {
        const float v = y[i] / 6.0f + 0.5f;
        y[i] = y[i] * (v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v);
      }
      return;
    case ActKind::kTanh:
      for (size_t i = 0; i < n; i++) y[i] = std::tanh(y[i]);
      return;
  }
}

}  // namespace simdcnn
