// conv2dPackedSize(geom), conv2dPackWeights(w, packed, geom) and conv2dPacked(x, packed, b, residual,
// out, geom, act): the planned-inference direct convolution from weights packed once. Validates
// everything that crosses N-API, then one kernel call (conv2dPacked's is deferred while a
// forwardAsync capture is open, like conv2d; packing always runs at once).
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/conv_geom.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/conv/conv2d_packed.h"

namespace simdcnn {
namespace binding {
namespace {

// Floats of the packed weights; RangeError when the layer is too large to pack.
size_t packed_size(Napi::Env env, const char* op, const Conv2dParams& p) {
  const size_t n = conv2d_packed_size(p);
  if (n == 0)
    throw_range_error(env, std::string(op) + ": packed weights for outC = " + std::to_string(p.outC) +
                               ", C/groups*kH*kW = " + std::to_string(p.C / p.groups * p.kH * p.kW) +
                               ", groups = " + std::to_string(p.groups) + " exceed " +
                               std::to_string(kMaxElements) + " elements");
  return n;
}

void expect_packed_length(Napi::Env env, const char* op, const F32View& packed, size_t n) {
  if (packed.length != n)
    throw_range_error(env, std::string(op) + ": packed must have conv2dPackedSize(geom) = " + std::to_string(n) +
                               " elements, got " + std::to_string(packed.length));
}

// conv2dPackedSize(geom): floats conv2dPackWeights writes on the active ISA.
Napi::Value Conv2dPackedSize(const Napi::CallbackInfo& info) {
  int64_t oh = 0, ow = 0;
  const char* op = "conv2dPackedSize";
  const Conv2dParams p = read_conv_geom(info, 0, op, &oh, &ow);
  return Napi::Number::New(info.Env(), static_cast<double>(packed_size(info.Env(), op, p)));
}

// conv2dPackWeights(w, packed, geom): w [outC, C/groups, kH, kW] -> packed.
Napi::Value Conv2dPackWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dPackWeights";
  const F32View w = get_f32(info, 0, op, "w");
  const F32View packed = get_f32(info, 1, op, "packed");
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_conv_geom(info, 2, op, &oh, &ow);
  const int64_t wd[4] = {static_cast<int64_t>(p.outC), static_cast<int64_t>(p.C / p.groups), static_cast<int64_t>(p.kH),
                         static_cast<int64_t>(p.kW)};
  expect_length(env, op, "w", w, wd, 4);
  expect_packed_length(env, op, packed, packed_size(env, op, p));
  if (views_overlap(packed, w)) throw_range_error(env, std::string(op) + ": packed must not share memory with w");
  // Runs now even while a forwardAsync capture is open: weights are packed once, before any
  // forward, and conv2dPacked checks the packed header when it is called.
  check_status(env, conv2d_pack_weights(p, w.data, packed.data), op);
  return env.Undefined();
}

// conv2dPacked(x, packed, b, residual, out, geom, act): out = act(conv(x) + b + residual).
Napi::Value Conv2dPacked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dPacked";
  const PlannedConvArgs a = read_planned_conv_args(info, op, "packed");
  const F32View &x = a.x, &packed = a.weights, &b = a.b, &res = a.res, &out = a.out;
  const int64_t oh = a.oh, ow = a.ow;
  const Conv2dParams& p = a.p;
  const int64_t N = static_cast<int64_t>(p.N), outC = static_cast<int64_t>(p.outC);
  const int64_t xd[4] = {N, static_cast<int64_t>(p.C), static_cast<int64_t>(p.H), static_cast<int64_t>(p.W)};
  const int64_t bd[1] = {outC}, yd[4] = {N, outC, oh, ow};
  expect_length(env, op, "x", x, xd, 4);
  expect_packed_length(env, op, packed, packed_size(env, op, p));
  if (b.data) expect_length(env, op, "b", b, bd, 1);
  if (res.data) expect_length(env, op, "residual", res, yd, 4);
  expect_length(env, op, "out", out, yd, 4);
  // The kernel reads x, packed, b and residual while it writes out: a shared buffer would corrupt
  // the result.
  if (views_overlap(out, x) || views_overlap(out, packed) || views_overlap(out, b) || views_overlap(out, res))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, packed, b or residual");
  // The packed buffer is made before any forward (conv2dPackWeights), so its header can be checked
  // now, even while a capture defers the kernel.
  if (!conv2d_packed_matches(p, packed.data))
    throw_range_error(env, std::string(op) +
                               ": packed does not hold weights packed by conv2dPackWeights for outC = " +
                               std::to_string(p.outC) + ", C = " + std::to_string(p.C) + ", kernel " +
                               pair_string(static_cast<int64_t>(p.kH), static_cast<int64_t>(p.kW)) + ", groups " +
                               std::to_string(p.groups) + " on this ISA");
  return run_kernel(info, op, [=] { return conv2d_packed(p, x.data, packed.data, b.data, res.data, out.data); });
}

}  // namespace

void register_conv_packed(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dPackedSize", Napi::Function::New(env, Conv2dPackedSize, "conv2dPackedSize"));
  exports.Set("conv2dPackWeights", Napi::Function::New(env, Conv2dPackWeights, "conv2dPackWeights"));
  exports.Set("conv2dPacked", Napi::Function::New(env, Conv2dPacked, "conv2dPacked"));
}

}  // namespace binding
}  // namespace simdcnn
