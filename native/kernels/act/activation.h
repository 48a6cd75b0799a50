// The activation a kernel applies in its epilogue (convolutions, dense layers): the graph compiler
// fuses Relu, Clip/ReLU6, LeakyRelu, Sigmoid, SiLU (x * sigmoid(x)), HardSigmoid and HardSwish into
// the op that produces their input. Codes match the addon's `act` argument; alpha/beta are the
// activation's parameters (see ActKind).
#pragma once
#include <cstddef>

namespace simdcnn {

enum class ActKind : int {
  kNone = 0,
  kRelu = 1,
  kLeakyRelu = 2,    // x >= 0 ? x : alpha * x
  kClip = 3,         // min(max(x, alpha), beta)   (ReLU6: alpha 0, beta 6)
  kSigmoid = 4,
  kSilu = 5,         // x * sigmoid(x)
  kHardSigmoid = 6,  // max(0, min(1, alpha * x + beta))
  kHardSwish = 7,    // x * max(0, min(1, x / 6 + 1/2))
  kTanh = 8,
};
constexpr int kActKindCount = 9;

struct Activation {
  ActKind kind = ActKind::kNone;
  float alpha = 0.0f;
  float beta = 0.0f;
};

inline Activation relu_or_none(bool relu) { return Activation{relu ? ActKind::kRelu : ActKind::kNone, 0.0f, 0.0f}; }

// y[i] = act(y[i]) for i < n, on the calling thread: epilogues call it on a block they have just
// written, while it is still in cache. NaN propagates (PyTorch semantics).
void apply_activation(float* y, size_t n, const Activation& act);

}  // namespace simdcnn
