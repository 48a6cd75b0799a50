// unary, softmax: validate, then call kernels/act.
#include <napi.h>

#include <cfloat>
#include <cmath>
#include <utility>
#include <sstream>
#include <string>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/act/softmax.h"
#include "kernels/act/unary.h"
#include "kernels/act/unary_backward.h"

namespace simdcnn {
namespace binding {

namespace {

// unary(x, out, kind, alpha[, beta]): kinds 4.. (clip, silu, hardSigmoid, hardSwish, sqrt, erf, gelu) are the
// graph compiler's inference-only activations; beta is clip's max and hardSigmoid's offset.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  static const char* kOp = "unary";
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  const int64_t kind = get_int(info, 2, kOp,
                               "kind (0 relu, 1 leakyRelu, 2 sigmoid, 3 tanh, 4 clip, 5 silu, 6 hardSigmoid, 7 hardSwish, 8 sqrt, 9 erf, 10 gelu)",
                               0, kUnaryKindCount - 1);
  float alpha = 0.0f, beta = 0.0f;
  get_unary_params(info, 3, kOp, static_cast<int>(kind), &alpha, &beta);
  if (out.length != x.length)
    throw_range_error(env, std::string(kOp) + ": out has " + std::to_string(out.length) +
                               " elements, expected " + std::to_string(x.length) + " (x's length)");
  if (static_cast<int64_t>(x.length) > kMaxElements)
    throw_range_error(env, std::string(kOp) + ": x has more than 2^31-1 elements");
  expect_same_or_disjoint(env, kOp, x, out);
  return run_kernel(info, kOp, [=] { return unary(x.data, out.data, static_cast<int64_t>(x.length), static_cast<UnaryKind>(kind),
                          alpha, beta); });
}

// softmax(x, out, [outer, dim, inner], log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  static const char* kOp = "softmax";
  static const char* const kNames[] = {"outer", "dim", "inner"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 3, kNames, 1, kMaxElements);
  const bool log = get_bool(info, 3, kOp, "log");
  expect_length(env, kOp, "x", x, d);
  expect_length(env, kOp, "out", out, d);
  expect_same_or_disjoint(env, kOp, x, out);
  return run_kernel(info, kOp, [=] { return softmax(x.data, out.data, d[0], d[1], d[2], log); });
}

// unaryBackward(x, y, dy, dx, kind, alpha): dx = dy * f'(.) (kind 0 relu, 1 leakyRelu, 2 sigmoid,
// 3 tanh, 4 reluOut). x, y, dy and dx have one length; dx may be dy (or x, or y) itself.
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  static const char* kOp = "unaryBackward";
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View y = get_f32(info, 1, kOp, "y");
  const F32View dy = get_f32(info, 2, kOp, "dy");
  const F32View dx = get_f32(info, 3, kOp, "dx");
  const int64_t kind = get_int(info, 4, kOp, "kind (0 relu, 1 leakyRelu, 2 sigmoid, 3 tanh, 4 reluOut)", 0,
                               kUnaryBackwardKindCount - 1);
  const double alpha = get_number(info, 5, kOp, "alpha");
  if (!(alpha >= -FLT_MAX && alpha <= FLT_MAX))
    throw_range_error(env, std::string(kOp) + ": alpha must be a finite float32, got " + number_string(alpha));
  if (static_cast<int64_t>(dy.length) > kMaxElements)
    throw_range_error(env, std::string(kOp) + ": dy has more than 2^31-1 elements");
  for (const auto& [name, v] : {std::pair<const char*, const F32View*>{"x", &x}, {"y", &y}, {"dx", &dx}})
    if (v->length != dy.length)
      throw_range_error(env, std::string(kOp) + ": " + name + " has " + std::to_string(v->length) +
                                 " elements, expected " + std::to_string(dy.length) + " (dy's length)");
  expect_same_or_disjoint(env, kOp, "dy", dy, "dx", dx);
  expect_same_or_disjoint(env, kOp, "x", x, "dx", dx);
  expect_same_or_disjoint(env, kOp, "y", y, "dx", dx);
  const float a = static_cast<float>(alpha);
  return run_kernel(info, kOp, [=] {
    return unary_backward(x.data, y.data, dy.data, dx.data, static_cast<int64_t>(dy.length),
                          static_cast<UnaryBackwardKind>(kind), a);
  });
}

}  // namespace

void register_act(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("unaryBackward", Napi::Function::New(env, UnaryBackward, "unaryBackward"));
}

}  // namespace binding
}  // namespace simdcnn
