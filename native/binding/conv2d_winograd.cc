// winogradPreferred(geom), winogradWeights(w, u, geom) and conv2dWinograd(x, u, b, residual, out, geom,
// act): the planned-inference Winograd F(4x4,3x3) path. Validates everything that crosses N-API, then
// one kernel call (deferred while a forwardAsync capture is open, like conv2d).
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/conv_geom.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/conv/winograd.h"

namespace simdcnn {
namespace binding {
namespace {


// RangeError unless the layer is one the Winograd kernel implements.
void expect_winograd(Napi::Env env, const char* op, const Conv2dParams& p) {
  const std::string o(op);
  if (p.kH != 3 || p.kW != 3)
    throw_range_error(env, o + ": geom kH, kW (geom[5], geom[6]) must be 3 for Winograd F(4x4,3x3), got " +
                               pair_string(static_cast<int64_t>(p.kH), static_cast<int64_t>(p.kW)));
  if (p.strideH != 1 || p.strideW != 1)
    throw_range_error(env, o + ": geom strideH, strideW (geom[7], geom[8]) must be 1 for Winograd, got " +
                               pair_string(static_cast<int64_t>(p.strideH), static_cast<int64_t>(p.strideW)));
  if (p.dilationH != 1 || p.dilationW != 1)
    throw_range_error(env, o + ": geom dilationH, dilationW (geom[13], geom[14]) must be 1 for Winograd, got " +
                               pair_string(static_cast<int64_t>(p.dilationH), static_cast<int64_t>(p.dilationW)));
  if (p.groups != 1)
    throw_range_error(env, o + ": geom[15] (groups) must be 1 for Winograd, got " + std::to_string(p.groups));
}

// winogradPreferred(geom): a shape-only decision; false (never an error) for layers Winograd
// cannot run, RangeError only for a geom conv2d itself would reject.
Napi::Value WinogradPreferred(const Napi::CallbackInfo& info) {
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_conv_geom(info, 0, "winogradPreferred", &oh, &ow);
  return Napi::Boolean::New(info.Env(), winograd_preferred(p));
}

// winogradWeights(w, u, geom): u [36, outC, C] = G w G^T per (oc, c).
Napi::Value WinogradWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "winogradWeights";
  const F32View w = get_f32(info, 0, op, "w");
  const F32View u = get_f32(info, 1, op, "u");
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_conv_geom(info, 2, op, &oh, &ow);
  expect_winograd(env, op, p);
  const int64_t outC = static_cast<int64_t>(p.outC), C = static_cast<int64_t>(p.C);
  const int64_t wd[4] = {outC, C, 3, 3}, ud[3] = {36, outC, C};
  expect_length(env, op, "w", w, wd, 4);
  expect_length(env, op, "u", u, ud, 3);
  if (views_overlap(u, w)) throw_range_error(env, std::string(op) + ": u must not share memory with w");
  const size_t oc = p.outC, c = p.C;
  return run_kernel(info, op, [=] { return winograd_weights(oc, c, w.data, u.data); });
}

// conv2dWinograd(x, u, b, residual, out, geom, act): out = act(conv(x) + b + residual).
Napi::Value Conv2dWinograd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dWinograd";
  const F32View x = get_f32(info, 0, op, "x");
  const F32View u = get_f32(info, 1, op, "u");
  const F32View b = get_f32_or_null(info, 2, op, "b");
  const F32View res = get_f32_or_null(info, 3, op, "residual");
  const F32View out = get_f32(info, 4, op, "out");
  int64_t oh = 0, ow = 0;
  Conv2dParams p = read_conv_geom(info, 5, op, &oh, &ow);
  const int64_t act = get_int(info, 6, op, "act", 0, 1);
  expect_winograd(env, op, p);
  const int64_t N = static_cast<int64_t>(p.N), C = static_cast<int64_t>(p.C), outC = static_cast<int64_t>(p.outC);
  const int64_t xd[4] = {N, C, static_cast<int64_t>(p.H), static_cast<int64_t>(p.W)};
  const int64_t ud[3] = {36, outC, C}, bd[1] = {outC}, yd[4] = {N, outC, oh, ow};
  expect_length(env, op, "x", x, xd, 4);
  expect_length(env, op, "u", u, ud, 3);
  if (b.data) expect_length(env, op, "b", b, bd, 1);
  if (res.data) expect_length(env, op, "residual", res, yd, 4);
  expect_length(env, op, "out", out, yd, 4);
  // The kernel reads x, u, b and residual while it writes out: a shared buffer would corrupt the result.
  if (views_overlap(out, x) || views_overlap(out, u) || views_overlap(out, b) || views_overlap(out, res))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, u, b or residual");
  p.act = static_cast<int>(act);
  return run_kernel(info, op, [=] { return conv2d_winograd(p, x.data, u.data, b.data, res.data, out.data); });
}

}  // namespace

void register_conv_winograd(Napi::Env env, Napi::Object exports) {
  exports.Set("winogradPreferred", Napi::Function::New(env, WinogradPreferred, "winogradPreferred"));
  exports.Set("winogradWeights", Napi::Function::New(env, WinogradWeights, "winogradWeights"));
  exports.Set("conv2dWinograd", Napi::Function::New(env, Conv2dWinograd, "conv2dWinograd"));
}

}  // namespace binding
}  // namespace simdcnn
