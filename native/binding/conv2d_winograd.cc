// winogradPreferred(geom), winogradTileSize(geom), winogradWeightsSize(geom, m?), winogradWeights(w, u,
// geom, m?) and conv2dWinograd(x, u, b, residual, out, geom, act): the planned-inference Winograd
// F(4x4,3x3) / F(2x2,3x3) path. Validates everything that crosses N-API, then
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
    throw_range_error(env, o + ": geom kH, kW (geom[5], geom[6]) must be 3 for Winograd, got " +
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

// The tile size argument of winogradWeightsSize / winogradWeights: 0 (the layer's own choice), 2 or 4.
int read_tile(const Napi::CallbackInfo& info, size_t idx, const char* op) {
  if (info.Length() <= idx || info[idx].IsUndefined()) return 0;
  const int64_t m = get_int(info, idx, op, "m", 0, 4);
  if (m != 0 && m != 2 && m != 4)
    throw_range_error(info.Env(), std::string(op) + ": m must be 0, 2 or 4, got " + std::to_string(m));
  return static_cast<int>(m);
}

// Floats of the transformed weights; RangeError when the layer is too large.
size_t weights_size(Napi::Env env, const char* op, const Conv2dParams& p, int m) {
  const size_t n = winograd_weights_size(p, m);
  if (n == 0)
    throw_range_error(env, std::string(op) + ": transformed weights for outC = " + std::to_string(p.outC) +
                               ", C = " + std::to_string(p.C) + " exceed " + std::to_string(kMaxElements) +
                               " elements");
  return n;
}

void expect_u_length(Napi::Env env, const char* op, const F32View& u, size_t n) {
  if (u.length != n)
    throw_range_error(env, std::string(op) + ": u must have winogradWeightsSize(geom) = " + std::to_string(n) +
                               " elements, got " + std::to_string(u.length));
}

// winogradTileSize(geom): the output tile size the layer's transformed weights use (4 or 2).
Napi::Value WinogradTileSize(const Napi::CallbackInfo& info) {
  int64_t oh = 0, ow = 0;
  const char* op = "winogradTileSize";
  const Conv2dParams p = read_conv_geom(info, 0, op, &oh, &ow);
  expect_winograd(info.Env(), op, p);
  return Napi::Number::New(info.Env(), winograd_tile_size(p));
}

// winogradWeightsSize(geom, m?): floats winogradWeights writes for this layer on the active ISA.
Napi::Value WinogradWeightsSize(const Napi::CallbackInfo& info) {
  int64_t oh = 0, ow = 0;
  const char* op = "winogradWeightsSize";
  const Conv2dParams p = read_conv_geom(info, 0, op, &oh, &ow);
  expect_winograd(info.Env(), op, p);
  const int m = read_tile(info, 1, op);
  return Napi::Number::New(info.Env(), static_cast<double>(weights_size(info.Env(), op, p, m)));
}

// winogradWeights(w, u, geom, m?): u = G w G^T per (oc, c), packed in channel panels.
Napi::Value WinogradWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "winogradWeights";
  const F32View w = get_f32(info, 0, op, "w");
  const F32View u = get_f32(info, 1, op, "u");
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_conv_geom(info, 2, op, &oh, &ow);
  expect_winograd(env, op, p);
  const int m = read_tile(info, 3, op);
  const int64_t wd[4] = {static_cast<int64_t>(p.outC), static_cast<int64_t>(p.C), 3, 3};
  expect_length(env, op, "w", w, wd, 4);
  expect_u_length(env, op, u, weights_size(env, op, p, m));
  if (views_overlap(u, w)) throw_range_error(env, std::string(op) + ": u must not share memory with w");
  // Runs now even while a forwardAsync capture is open: weights are transformed once, before any
  // forward, and conv2dWinograd checks u's header when it is called.
  check_status(env, winograd_weights(p, w.data, u.data, m), op);
  return env.Undefined();
}

// conv2dWinograd(x, u, b, residual, out, geom, act): out = act(conv(x) + b + residual).
Napi::Value Conv2dWinograd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dWinograd";
  const PlannedConvArgs a = read_planned_conv_args(info, op, "u");
  const F32View &x = a.x, &u = a.weights, &b = a.b, &res = a.res, &out = a.out;
  const int64_t oh = a.oh, ow = a.ow;
  const Conv2dParams& p = a.p;
  expect_winograd(env, op, p);
  const int64_t N = static_cast<int64_t>(p.N), C = static_cast<int64_t>(p.C), outC = static_cast<int64_t>(p.outC);
  const int64_t xd[4] = {N, C, static_cast<int64_t>(p.H), static_cast<int64_t>(p.W)};
  const int64_t bd[1] = {outC}, yd[4] = {N, outC, oh, ow};
  expect_length(env, op, "x", x, xd, 4);
  // u's header (made by winogradWeights before any forward) names its tile size, and so its length.
  const int m = u.length >= 16 ? winograd_weights_tile(p, u.data) : 0;
  if (m == 0) {
    if (u.length < 16) expect_u_length(env, op, u, weights_size(env, op, p, 0));
    throw_range_error(env, std::string(op) + ": u does not hold weights made by winogradWeights for outC = " +
                               std::to_string(p.outC) + ", C = " + std::to_string(p.C) + " on this ISA");
  }
  expect_u_length(env, op, u, weights_size(env, op, p, m));
  if (b.data) expect_length(env, op, "b", b, bd, 1);
  if (res.data) expect_length(env, op, "residual", res, yd, 4);
  expect_length(env, op, "out", out, yd, 4);
  // The kernel reads x, u, b and residual while it writes out: a shared buffer would corrupt the result.
  if (views_overlap(out, x) || views_overlap(out, u) || views_overlap(out, b) || views_overlap(out, res))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, u, b or residual");
  return run_kernel(info, op, [=] { return conv2d_winograd(p, x.data, u.data, b.data, res.data, out.data); });
}

}  // namespace

void register_conv_winograd(Napi::Env env, Napi::Object exports) {
  exports.Set("winogradPreferred", Napi::Function::New(env, WinogradPreferred, "winogradPreferred"));
  exports.Set("winogradTileSize", Napi::Function::New(env, WinogradTileSize, "winogradTileSize"));
  exports.Set("winogradWeightsSize", Napi::Function::New(env, WinogradWeightsSize, "winogradWeightsSize"));
  exports.Set("winogradWeights", Napi::Function::New(env, WinogradWeights, "winogradWeights"));
  exports.Set("conv2dWinograd", Napi::Function::New(env, Conv2dWinograd, "conv2dWinograd"));
}

}  // namespace binding
}  // namespace simdcnn
