// conv2d(x, w, b, out, geom, act), conv2dBackwardInput(dy, w, dx, geom) and
// conv2dBackwardWeight(x, dy, dw, geom): validate everything that crosses N-API, then one kernel call.
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/conv_geom.h"
#include "binding/defer.h"
#include "binding/linear.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/conv2d_backward.h"

namespace simdcnn {
namespace binding {
namespace {


Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2d";
  const F32View x = get_f32(info, 0, op, "x");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View b = get_f32_or_null(info, 2, op, "b");
  const F32View out = get_f32(info, 3, op, "out");
  int64_t oh = 0, ow = 0;
  Conv2dParams p = read_conv_geom(info, 4, op, &oh, &ow);
  const ActArgs act = get_act(info, 5, op);
  const ConvDims d = conv_dims(p, oh, ow);
  expect_length(env, op, "x", x, d.x, 4);
  expect_length(env, op, "w", w, d.w, 4);
  if (b.data) expect_length(env, op, "b", b, d.b, 1);
  expect_length(env, op, "out", out, d.y, 4);
  // The kernel reads x, w and b while it writes out: a shared buffer would corrupt the result.
  if (views_overlap(out, x) || views_overlap(out, w) || views_overlap(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, w or b");
  p.act = act.code;
  p.act_alpha = act.alpha;
  p.act_beta = act.beta;
  return run_kernel(info, op, [=] { return conv2d(p, x.data, w.data, b.data, out.data); });
}

// conv2dPointwise(x, w, b, residual, out, geom, act): a 1x1 stride-1 unpadded conv2d with a residual
// added before the activation; residual may be out itself (see conv2d_pointwise).
Napi::Value Conv2dPointwise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dPointwise";
  const PlannedConvArgs a = read_planned_conv_args(info, op, "w");
  const F32View &x = a.x, &w = a.weights, &b = a.b, &res = a.res, &out = a.out;
  const int64_t oh = a.oh, ow = a.ow;
  const Conv2dParams& p = a.p;
  if (p.kH != 1 || p.kW != 1 || p.strideH != 1 || p.strideW != 1 || p.padTop + p.padLeft + p.padBottom + p.padRight != 0)
    throw_range_error(env, std::string(op) + ": the geometry must be a 1x1 kernel at stride 1 without padding, got kernel " +
                               pair_string(static_cast<int64_t>(p.kH), static_cast<int64_t>(p.kW)) + ", stride " +
                               pair_string(static_cast<int64_t>(p.strideH), static_cast<int64_t>(p.strideW)) +
                               ", padding [" + std::to_string(p.padTop) + "," + std::to_string(p.padLeft) + "," +
                               std::to_string(p.padBottom) + "," + std::to_string(p.padRight) + "]");
  const ConvDims d = conv_dims(p, oh, ow);
  expect_length(env, op, "x", x, d.x, 4);
  expect_length(env, op, "w", w, d.w, 4);
  if (b.data) expect_length(env, op, "b", b, d.b, 1);
  if (res.data) expect_length(env, op, "residual", res, d.y, 4);
  expect_length(env, op, "out", out, d.y, 4);
  // The kernel reads x, w and b while it writes out; the residual is read once per element, by the
  // store that writes it, so it may be out itself (but not a shifted overlap).
  if (views_overlap(out, x) || views_overlap(out, w) || views_overlap(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, w or b");
  if (res.data) expect_same_or_disjoint(env, op, "residual", res, "out", out);
  return run_kernel(info, op, [=] { return conv2d_pointwise(p, x.data, w.data, b.data, res.data, out.data); });
}

// conv2dBackwardInput(dy, w, dx, geom): dx = the gradient of conv2d w.r.t. its input.
Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dBackwardInput";
  const F32View dy = get_f32(info, 0, op, "dy");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View dx = get_f32(info, 2, op, "dx");
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_conv_geom(info, 3, op, &oh, &ow);
  const ConvDims d = conv_dims(p, oh, ow);
  expect_length(env, op, "dy", dy, d.y, 4);
  expect_length(env, op, "w", w, d.w, 4);
  expect_length(env, op, "dx", dx, d.x, 4);
  if (views_overlap(dx, dy) || views_overlap(dx, w))
    throw_range_error(env, std::string(op) + ": dx must not share memory with dy or w");
  return run_kernel(info, op, [=] { return conv2d_backward_input(p, dy.data, w.data, dx.data); });
}

// conv2dBackwardWeight(x, dy, dw, geom): dw = the gradient of conv2d w.r.t. its weight.
Napi::Value Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dBackwardWeight";
  const F32View x = get_f32(info, 0, op, "x");
  const F32View dy = get_f32(info, 1, op, "dy");
  const F32View dw = get_f32(info, 2, op, "dw");
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_conv_geom(info, 3, op, &oh, &ow);
  const ConvDims d = conv_dims(p, oh, ow);
  expect_length(env, op, "x", x, d.x, 4);
  expect_length(env, op, "dy", dy, d.y, 4);
  expect_length(env, op, "dw", dw, d.w, 4);
  if (views_overlap(dw, x) || views_overlap(dw, dy))
    throw_range_error(env, std::string(op) + ": dw must not share memory with x or dy");
  return run_kernel(info, op, [=] { return conv2d_backward_weight(p, x.data, dy.data, dw.data); });
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dPointwise", Napi::Function::New(env, Conv2dPointwise, "conv2dPointwise"));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
  register_linear(env, exports);
}

}  // namespace binding
}  // namespace simdcnn
