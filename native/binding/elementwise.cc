// binary: validate, then call kernels/elementwise.
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/elementwise/binary.h"

namespace simdcnn {
namespace binding {

namespace {

bool same(const F32View& a, const F32View& b) { return a.data == b.data && a.length == b.length; }

// binary(a, b, out, [N, C, inner], kind, bMode)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  static const char* kOp = "binary";
  static const char* const kNames[] = {"N", "C", "inner"};
  Napi::Env env = info.Env();
  const F32View a = get_f32(info, 0, kOp, "a");
  const F32View b = get_f32(info, 1, kOp, "b");
  const F32View out = get_f32(info, 2, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 3, kOp, "dims", 3, kNames, 1, kMaxElements);
  const int64_t kind = get_int(info, 4, kOp, "kind (0 add, 1 sub, 2 mul, 3 div)", 0, 3);
  const int64_t mode = get_int(info, 5, kOp, "bMode (0 same shape, 1 channel)", 0, 1);
  expect_length(env, kOp, "a", a, d);
  expect_length(env, kOp, "out", out, d);
  if (mode == 0) {
    expect_length(env, kOp, "b", b, d);
  } else {
    expect_length(env, kOp, "b", b, {d[1]});
  }
  // Elementwise in place (out is a, or out is b in same-shape mode) is fine; any other overlap is not.
  if (views_overlap(out, a) && !same(out, a)) throw_range_error(env, std::string(kOp) + ": out must be a itself or not overlap it");
  if (views_overlap(out, b) && !(mode == 0 && same(out, b)))
    throw_range_error(env, std::string(kOp) + (mode == 0 ? ": out must be b itself or not overlap it"
                                                         : ": out must not overlap b"));
  return run_kernel(info, kOp, [=] { return binary(a.data, b.data, out.data, d[0], d[1], d[2], static_cast<BinaryKind>(kind),
                           static_cast<BroadcastMode>(mode)); });
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
}

}  // namespace binding
}  // namespace simdcnn
