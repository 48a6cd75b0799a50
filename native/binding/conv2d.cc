// conv2d(x, w, b, out, geom, act), conv2dBackwardInput(dy, w, dx, geom) and
// conv2dBackwardWeight(x, dy, dw, geom): validate everything that crosses N-API, then one kernel call.
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/linear.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/conv2d_backward.h"

namespace simdcnn {
namespace binding {
namespace {

enum Geom { kN, kC, kH, kW, kOutC, kKh, kKw, kSh, kSw, kPt, kPl, kPb, kPr, kDh, kDw, kGroups, kGeomLen };
const char* const kGeomNames[kGeomLen] = {"N",       "C",       "H",         "W",        "outC",      "kH",
                                          "kW",      "strideH", "strideW",   "padTop",   "padLeft",   "padBottom",
                                          "padRight", "dilationH", "dilationW", "groups"};

std::string dims4(int64_t a, int64_t b, int64_t c, int64_t d) {
  const int64_t v[4] = {a, b, c, d};
  return shape_string(v, 4);
}

// Reads and checks geom (argument idx) for `op`; fills the kernel parameters and the output size.
Conv2dParams read_geom(const Napi::CallbackInfo& info, size_t idx, const char* op, int64_t* oh_out, int64_t* ow_out) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> g = get_int_array(info, idx, op, "geom", kGeomLen, kGeomNames, 0, kMaxElements);
  // Everything but the paddings must be at least 1.
  for (int i = 0; i < kGeomLen; ++i) {
    if (i >= kPt && i <= kPr) continue;
    if (g[i] < 1)
      throw_range_error(env, std::string(op) + ": geom[" + std::to_string(i) + "] (" + kGeomNames[i] +
                                 ") must be >= 1, got " + std::to_string(g[i]));
  }
  if (g[kC] % g[kGroups] != 0 || g[kOutC] % g[kGroups] != 0)
    throw_range_error(env, std::string(op) + ": groups = " + std::to_string(g[kGroups]) +
                               " must divide both C = " + std::to_string(g[kC]) + " and outC = " +
                               std::to_string(g[kOutC]));

  const int64_t oh = pooled_output_size(g[kH], g[kKh], g[kSh], g[kPt], g[kPb], g[kDh], false);
  const int64_t ow = pooled_output_size(g[kW], g[kKw], g[kSw], g[kPl], g[kPr], g[kDw], false);
  if (oh < 1 || ow < 1)
    throw_range_error(env, std::string(op) + ": empty output for input " +
                               dims4(g[kN], g[kC], g[kH], g[kW]) + " with kernel [" + std::to_string(g[kKh]) + "," +
                               std::to_string(g[kKw]) + "], stride [" + std::to_string(g[kSh]) + "," +
                               std::to_string(g[kSw]) + "], padding " + dims4(g[kPt], g[kPl], g[kPb], g[kPr]) +
                               ", dilation [" + std::to_string(g[kDh]) + "," + std::to_string(g[kDw]) +
                               "]: the dilated kernel is larger than the padded input");
  *oh_out = oh;
  *ow_out = ow;
  Conv2dParams p;
  p.N = static_cast<size_t>(g[kN]);
  p.C = static_cast<size_t>(g[kC]);
  p.H = static_cast<size_t>(g[kH]);
  p.W = static_cast<size_t>(g[kW]);
  p.outC = static_cast<size_t>(g[kOutC]);
  p.kH = static_cast<size_t>(g[kKh]);
  p.kW = static_cast<size_t>(g[kKw]);
  p.strideH = static_cast<size_t>(g[kSh]);
  p.strideW = static_cast<size_t>(g[kSw]);
  p.padTop = static_cast<size_t>(g[kPt]);
  p.padLeft = static_cast<size_t>(g[kPl]);
  p.padBottom = static_cast<size_t>(g[kPb]);
  p.padRight = static_cast<size_t>(g[kPr]);
  p.dilationH = static_cast<size_t>(g[kDh]);
  p.dilationW = static_cast<size_t>(g[kDw]);
  p.groups = static_cast<size_t>(g[kGroups]);
  return p;
}

struct ConvDims {
  int64_t x[4], w[4], b[1], y[4];
};

ConvDims conv_dims(const Conv2dParams& p, int64_t oh, int64_t ow) {
  const int64_t N = static_cast<int64_t>(p.N), C = static_cast<int64_t>(p.C), outC = static_cast<int64_t>(p.outC);
  const int64_t cg = C / static_cast<int64_t>(p.groups);
  return ConvDims{{N, C, static_cast<int64_t>(p.H), static_cast<int64_t>(p.W)},
                  {outC, cg, static_cast<int64_t>(p.kH), static_cast<int64_t>(p.kW)},
                  {outC},
                  {N, outC, oh, ow}};
}

Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2d";
  const F32View x = get_f32(info, 0, op, "x");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View b = get_f32_or_null(info, 2, op, "b");
  const F32View out = get_f32(info, 3, op, "out");
  int64_t oh = 0, ow = 0;
  Conv2dParams p = read_geom(info, 4, op, &oh, &ow);
  const int64_t act = get_int(info, 5, op, "act", 0, 1);
  const ConvDims d = conv_dims(p, oh, ow);
  expect_length(env, op, "x", x, d.x, 4);
  expect_length(env, op, "w", w, d.w, 4);
  if (b.data) expect_length(env, op, "b", b, d.b, 1);
  expect_length(env, op, "out", out, d.y, 4);
  // The kernel reads x, w and b while it writes out: a shared buffer would corrupt the result.
  if (views_overlap(out, x) || views_overlap(out, w) || views_overlap(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, w or b");
  p.act = static_cast<int>(act);
  return run_kernel(info, op, [=] { return conv2d(p, x.data, w.data, b.data, out.data); });
}

// conv2dBackwardInput(dy, w, dx, geom): dx = the gradient of conv2d w.r.t. its input.
Napi::Value Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2dBackwardInput";
  const F32View dy = get_f32(info, 0, op, "dy");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View dx = get_f32(info, 2, op, "dx");
  int64_t oh = 0, ow = 0;
  const Conv2dParams p = read_geom(info, 3, op, &oh, &ow);
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
  const Conv2dParams p = read_geom(info, 3, op, &oh, &ow);
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
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput, "conv2dBackwardInput"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
  register_linear(env, exports);
}

}  // namespace binding
}  // namespace simdcnn
