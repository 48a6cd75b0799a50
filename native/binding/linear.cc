// linear(x, w, b, out, [N, inF, outF]), matmul(a, b, out, [M, K, N]), linearBackward, and the
// planned-inference trio linearPackedSize([inF, outF]), linearPackWeights(w, packed, [inF, outF]),
// linearPacked(x, packed, b, out, [N, inF, outF], act).
#include "binding/linear.h"

#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/defer.h"
#include "core/shape.h"
#include "kernels/gemm/linear.h"
#include "kernels/gemm/linear_backward.h"
#include "kernels/gemm/linear_packed.h"

namespace simdcnn {
namespace binding {
namespace {

Napi::Value Linear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linear";
  static const char* const kNames[3] = {"N", "inF", "outF"};
  const F32View x = get_f32(info, 0, op, "x");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View b = get_f32_or_null(info, 2, op, "b");
  const F32View out = get_f32(info, 3, op, "out");
  const std::vector<int64_t> d = get_int_array(info, 4, op, "dims", 3, kNames, 1, kMaxElements);
  const int64_t x_dims[2] = {d[0], d[1]}, w_dims[2] = {d[2], d[1]}, b_dims[1] = {d[2]}, o_dims[2] = {d[0], d[2]};
  expect_length(env, op, "x", x, x_dims, 2);
  expect_length(env, op, "w", w, w_dims, 2);
  if (b.data) expect_length(env, op, "b", b, b_dims, 1);
  expect_length(env, op, "out", out, o_dims, 2);
  if (views_overlap(out, x) || views_overlap(out, w) || views_overlap(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, w or b");
  return run_kernel(info, op, [=] { return linear(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]), static_cast<size_t>(d[2]), x.data,
                      w.data, b.data, out.data); });
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "matmul";
  static const char* const kNames[3] = {"M", "K", "N"};
  const F32View a = get_f32(info, 0, op, "a");
  const F32View b = get_f32(info, 1, op, "b");
  const F32View out = get_f32(info, 2, op, "out");
  const std::vector<int64_t> d = get_int_array(info, 3, op, "dims", 3, kNames, 1, kMaxElements);
  const int64_t a_dims[2] = {d[0], d[1]}, b_dims[2] = {d[1], d[2]}, o_dims[2] = {d[0], d[2]};
  expect_length(env, op, "a", a, a_dims, 2);
  expect_length(env, op, "b", b, b_dims, 2);
  expect_length(env, op, "out", out, o_dims, 2);
  if (views_overlap(out, a) || views_overlap(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with a or b");
  return run_kernel(info, op, [=] { return matmul(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]), static_cast<size_t>(d[2]), a.data,
                      b.data, out.data); });
}

// linearBackward(x, w, dy, [N, inF, outF], dx | null, dw | null, db | null).
Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linearBackward";
  static const char* const kNames[3] = {"N", "inF", "outF"};
  const F32View x = get_f32(info, 0, op, "x");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View dy = get_f32(info, 2, op, "dy");
  const std::vector<int64_t> d = get_int_array(info, 3, op, "dims", 3, kNames, 1, kMaxElements);
  const F32View dx = get_f32_or_null(info, 4, op, "dx");
  const F32View dw = get_f32_or_null(info, 5, op, "dw");
  const F32View db = get_f32_or_null(info, 6, op, "db");
  const int64_t x_dims[2] = {d[0], d[1]}, w_dims[2] = {d[2], d[1]}, y_dims[2] = {d[0], d[2]}, b_dims[1] = {d[2]};
  expect_length(env, op, "x", x, x_dims, 2);
  expect_length(env, op, "w", w, w_dims, 2);
  expect_length(env, op, "dy", dy, y_dims, 2);
  if (dx.data) expect_length(env, op, "dx", dx, x_dims, 2);
  if (dw.data) expect_length(env, op, "dw", dw, w_dims, 2);
  if (db.data) expect_length(env, op, "db", db, b_dims, 1);
  const F32View outs[3] = {dx, dw, db};
  const char* const out_names[3] = {"dx", "dw", "db"};
  for (int i = 0; i < 3; ++i) {
    if (views_overlap(outs[i], x) || views_overlap(outs[i], w) || views_overlap(outs[i], dy))
      throw_range_error(env, std::string(op) + ": " + out_names[i] + " must not share memory with x, w or dy");
    for (int j = 0; j < i; ++j)
      if (views_overlap(outs[i], outs[j]))
        throw_range_error(env, std::string(op) + ": " + out_names[i] + " must not share memory with " + out_names[j]);
  }
  return run_kernel(info, op, [=] {
    return linear_backward(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]), static_cast<size_t>(d[2]), x.data,
                           w.data, dy.data, dx.data, dw.data, db.data);
  });
}

// RangeError unless `packed` has exactly the floats linear_pack_weights writes for [inF, outF].
void expect_packed_length(Napi::Env env, const char* op, const F32View& packed, int64_t inF, int64_t outF) {
  const size_t n = linear_packed_size(static_cast<size_t>(inF), static_cast<size_t>(outF));
  if (n == 0 || packed.length != n)
    throw_range_error(env, std::string(op) + ": packed has " + std::to_string(packed.length) +
                               " elements, expected linearPackedSize = " + std::to_string(n));
}

// Weight preparation runs at once even while a forwardAsync capture is open: the packed array is
// cached by JS and may be used by a synchronous call before a captured forward would have run.
Napi::Value LinearPackedSize(const Napi::CallbackInfo& info) {
  const char* op = "linearPackedSize";
  static const char* const kNames[2] = {"inF", "outF"};
  const std::vector<int64_t> d = get_int_array(info, 0, op, "dims", 2, kNames, 1, kMaxElements);
  const size_t n = linear_packed_size(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]));
  if (n == 0 || n > static_cast<size_t>(kMaxElements))
    throw_range_error(info.Env(), std::string(op) + ": packed weights for [" + std::to_string(d[1]) + "," +
                                      std::to_string(d[0]) + "] would exceed the element limit");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value LinearPackWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linearPackWeights";
  static const char* const kNames[2] = {"inF", "outF"};
  const F32View w = get_f32(info, 0, op, "w");
  const F32View packed = get_f32(info, 1, op, "packed");
  const std::vector<int64_t> d = get_int_array(info, 2, op, "dims", 2, kNames, 1, kMaxElements);
  const int64_t w_dims[2] = {d[1], d[0]};
  expect_length(env, op, "w", w, w_dims, 2);
  expect_packed_length(env, op, packed, d[0], d[1]);
  if (views_overlap(packed, w)) throw_range_error(env, std::string(op) + ": packed must not share memory with w");
  check_status(env, linear_pack_weights(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]), w.data, packed.data), op);
  return env.Undefined();
}

Napi::Value LinearPacked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "linearPacked";
  static const char* const kNames[3] = {"N", "inF", "outF"};
  const F32View x = get_f32(info, 0, op, "x");
  const F32View packed = get_f32(info, 1, op, "packed");
  const F32View b = get_f32_or_null(info, 2, op, "b");
  const F32View out = get_f32(info, 3, op, "out");
  const std::vector<int64_t> d = get_int_array(info, 4, op, "dims", 3, kNames, 1, kMaxElements);
  const ActArgs act = get_act(info, 5, op);
  const int64_t x_dims[2] = {d[0], d[1]}, b_dims[1] = {d[2]}, o_dims[2] = {d[0], d[2]};
  expect_length(env, op, "x", x, x_dims, 2);
  expect_packed_length(env, op, packed, d[1], d[2]);
  if (b.data) expect_length(env, op, "b", b, b_dims, 1);
  expect_length(env, op, "out", out, o_dims, 2);
  if (views_overlap(out, x) || views_overlap(out, packed) || views_overlap(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, packed or b");
  return run_kernel(info, op, [=] {
    return linear_packed(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]), static_cast<size_t>(d[2]), x.data,
                         packed.data, b.data, act.code, act.alpha, act.beta, out.data);
  });
}

}  // namespace

void register_linear(Napi::Env env, Napi::Object exports) {
  exports.Set("linear", Napi::Function::New(env, Linear, "linear"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("linearBackward", Napi::Function::New(env, LinearBackward, "linearBackward"));
  exports.Set("linearPackedSize", Napi::Function::New(env, LinearPackedSize, "linearPackedSize"));
  exports.Set("linearPackWeights", Napi::Function::New(env, LinearPackWeights, "linearPackWeights"));
  exports.Set("linearPacked", Napi::Function::New(env, LinearPacked, "linearPacked"));
}

}  // namespace binding
}  // namespace simdcnn
