// crossEntropy, mseLoss (return a JS number), crossEntropyInto, crossEntropyBackward (write arrays,
// so a capture can record them): validate, then call kernels/loss.
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/loss/loss.h"

namespace simdcnn {
namespace binding {

namespace {

// crossEntropy(logits, targets: Int32Array, [N, K]) -> number
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  static const char* kOp = "crossEntropy";
  static const char* const kNames[] = {"N", "K"};
  Napi::Env env = info.Env();
  const F32View logits = get_f32(info, 0, kOp, "logits");
  // args.h has no Int32Array getter, so the check lives here.
  Napi::Value tv = info[1];
  if (!tv.IsTypedArray() || tv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_type_error(env, std::string(kOp) + ": targets must be an Int32Array");
  Napi::Int32Array targets = tv.As<Napi::Int32Array>();
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 2, kNames, 1, kMaxElements);
  expect_length(env, kOp, "logits", logits, d);
  if (static_cast<int64_t>(targets.ElementLength()) != d[0])
    throw_range_error(env, std::string(kOp) + ": targets has " + std::to_string(targets.ElementLength()) +
                               " elements, expected N = " + std::to_string(d[0]));
  const int32_t* t = targets.Data();
  for (int64_t n = 0; n < d[0]; ++n)
    if (t[n] < 0 || t[n] >= d[1])
      throw_range_error(env, std::string(kOp) + ": targets[" + std::to_string(n) + "] = " + std::to_string(t[n]) +
                                 " is out of range [0, " + std::to_string(d[1]) + ")");
  double loss = 0;
  check_status(env, cross_entropy(logits.data, t, d[0], d[1], &loss, nullptr), kOp);
  return Napi::Number::New(env, loss);
}

// mseLoss(a, b) -> number
Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  static const char* kOp = "mseLoss";
  Napi::Env env = info.Env();
  const F32View a = get_f32(info, 0, kOp, "a");
  const F32View b = get_f32(info, 1, kOp, "b");
  if (a.length != b.length)
    throw_range_error(env, std::string(kOp) + ": a has " + std::to_string(a.length) + " elements but b has " +
                               std::to_string(b.length) + " (lengths must match)");
  if (static_cast<int64_t>(a.length) > kMaxElements)
    throw_range_error(env, std::string(kOp) + ": a has more than 2^31-1 elements");
  double loss = 0;
  check_status(env, mse_loss(a.data, b.data, static_cast<int64_t>(a.length), &loss), kOp);
  return Napi::Number::New(env, loss);
}

// crossEntropyInto(logits, targets: Int32Array, [N, K], loss): the mean loss into loss[0].
Napi::Value CrossEntropyInto(const Napi::CallbackInfo& info) {
  static const char* kOp = "crossEntropyInto";
  static const char* const kNames[] = {"N", "K"};
  Napi::Env env = info.Env();
  const F32View logits = get_f32(info, 0, kOp, "logits");
  const I32View targets = get_i32(info, 1, kOp, "targets");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 2, kNames, 1, kMaxElements);
  const F32View loss = get_f32(info, 3, kOp, "loss");
  expect_length(env, kOp, "logits", logits, d);
  expect_targets(env, kOp, targets, d[0], d[1]);
  expect_length(env, kOp, "loss", loss, {1});
  expect_disjoint(env, kOp, "loss", loss, "logits", logits);
  // A replay reads the targets again: the kernel re-checks them and fails the run if one is out of range.
  return run_kernel(info, kOp, [=] { return cross_entropy_into(logits.data, targets.data, d[0], d[1], loss.data); });
}

// crossEntropyBackward(logits, targets: Int32Array, [N, K], gradOut, dlogits): the upstream
// gradient is gradOut[0], read when the kernel runs.
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  static const char* kOp = "crossEntropyBackward";
  static const char* const kNames[] = {"N", "K"};
  Napi::Env env = info.Env();
  const F32View logits = get_f32(info, 0, kOp, "logits");
  const I32View targets = get_i32(info, 1, kOp, "targets");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 2, kNames, 1, kMaxElements);
  const F32View grad_out = get_f32(info, 3, kOp, "gradOut");
  const F32View dlogits = get_f32(info, 4, kOp, "dlogits");
  expect_length(env, kOp, "logits", logits, d);
  expect_targets(env, kOp, targets, d[0], d[1]);
  expect_length(env, kOp, "gradOut", grad_out, {1});
  expect_length(env, kOp, "dlogits", dlogits, d);
  expect_same_or_disjoint(env, kOp, "logits", logits, "dlogits", dlogits);
  expect_disjoint(env, kOp, "dlogits", dlogits, "gradOut", grad_out);
  return run_kernel(info, kOp, [=] {
    return cross_entropy_backward(logits.data, targets.data, d[0], d[1], grad_out.data, dlogits.data);
  });
}

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
  exports.Set("mseLoss", Napi::Function::New(env, MseLoss, "mseLoss"));
  exports.Set("crossEntropyInto", Napi::Function::New(env, CrossEntropyInto, "crossEntropyInto"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
}

}  // namespace binding
}  // namespace simdcnn
