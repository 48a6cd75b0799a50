// crossEntropy, mseLoss: validate, then call kernels/loss; both return a JS number.
#include <napi.h>

#include <string>

#include "binding/args.h"
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

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
  exports.Set("mseLoss", Napi::Function::New(env, MseLoss, "mseLoss"));
}

}  // namespace binding
}  // namespace simdcnn
