// conv2d(x, w, b, out, geom, act): validates everything that crosses N-API, then one kernel call.
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

namespace simdcnn {
namespace binding {
namespace {

enum Geom { kN, kC, kH, kW, kOutC, kKh, kKw, kSh, kSw, kPt, kPl, kPb, kPr, kDh, kDw, kGroups, kGeomLen };
const char* const kGeomNames[kGeomLen] = {"N",       "C",       "H",         "W",        "outC",      "kH",
                                          "kW",      "strideH", "strideW",   "padTop",   "padLeft",   "padBottom",
                                          "padRight", "dilationH", "dilationW", "groups"};

bool overlaps(const F32View& a, const F32View& b) {
  if (!a.data || !b.data || a.length == 0 || b.length == 0) return false;
  return a.data < b.data + b.length && b.data < a.data + a.length;
}

std::string dims4(int64_t a, int64_t b, int64_t c, int64_t d) {
  const int64_t v[4] = {a, b, c, d};
  return shape_string(v, 4);
}

Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* op = "conv2d";
  const F32View x = get_f32(info, 0, op, "x");
  const F32View w = get_f32(info, 1, op, "w");
  const F32View b = get_f32_or_null(info, 2, op, "b");
  const F32View out = get_f32(info, 3, op, "out");
  const std::vector<int64_t> g = get_int_array(info, 4, op, "geom", kGeomLen, kGeomNames, 0, kMaxElements);
  const int64_t act = get_int(info, 5, op, "act", 0, 1);

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
  const int64_t cg = g[kC] / g[kGroups];

  const int64_t oh = pooled_output_size(g[kH], g[kKh], g[kSh], g[kPt], g[kPb], g[kDh], false);
  const int64_t ow = pooled_output_size(g[kW], g[kKw], g[kSw], g[kPl], g[kPr], g[kDw], false);
  if (oh < 1 || ow < 1)
    throw_range_error(env, std::string(op) + ": empty output for input " +
                               dims4(g[kN], g[kC], g[kH], g[kW]) + " with kernel [" + std::to_string(g[kKh]) + "," +
                               std::to_string(g[kKw]) + "], stride [" + std::to_string(g[kSh]) + "," +
                               std::to_string(g[kSw]) + "], padding " + dims4(g[kPt], g[kPl], g[kPb], g[kPr]) +
                               ", dilation [" + std::to_string(g[kDh]) + "," + std::to_string(g[kDw]) +
                               "]: the dilated kernel is larger than the padded input");

  const int64_t x_dims[4] = {g[kN], g[kC], g[kH], g[kW]};
  const int64_t w_dims[4] = {g[kOutC], cg, g[kKh], g[kKw]};
  const int64_t b_dims[1] = {g[kOutC]};
  const int64_t o_dims[4] = {g[kN], g[kOutC], oh, ow};
  expect_length(env, op, "x", x, x_dims, 4);
  expect_length(env, op, "w", w, w_dims, 4);
  if (b.data) expect_length(env, op, "b", b, b_dims, 1);
  expect_length(env, op, "out", out, o_dims, 4);
  // The kernel reads x, w and b while it writes out: a shared buffer would corrupt the result.
  if (overlaps(out, x) || overlaps(out, w) || overlaps(out, b))
    throw_range_error(env, std::string(op) + ": out must not share memory with x, w or b");

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
  p.act = static_cast<int>(act);
  return run_kernel(info, op, [=] { return conv2d(p, x.data, w.data, b.data, out.data); });
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  register_linear(env, exports);
}

}  // namespace binding
}  // namespace simdcnn
