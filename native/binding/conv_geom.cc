#include "binding/conv_geom.h"

#include <string>
#include <vector>

#include "binding/args.h"
#include "core/shape.h"

namespace simdcnn {
namespace binding {
namespace {

enum Geom : int { kN, kC, kH, kW, kOutC, kKh, kKw, kSh, kSw, kPt, kPl, kPb, kPr, kDh, kDw, kGroups, kGeomLen };
static const char* const kGeomNames[kGeomLen] = {"N",       "C",       "H",         "W",        "outC",      "kH",
                                          "kW",      "strideH", "strideW",   "padTop",   "padLeft",   "padBottom",
                                          "padRight", "dilationH", "dilationW", "groups"};

static std::string dims4(int64_t a, int64_t b, int64_t c, int64_t d) {
  const int64_t v[4] = {a, b, c, d};
  return shape_string(v, 4);
}


// Reads geom (argument idx) as conv2d does: every entry but the paddings >= 1, groups divides C and
// outC, a non-empty output. Fills p and the output size.
}  // namespace

std::string pair_string(int64_t a, int64_t b) { return "[" + std::to_string(a) + "," + std::to_string(b) + "]"; }

Conv2dParams read_conv_geom(const Napi::CallbackInfo& info, size_t idx, const char* op, int64_t* oh_out, int64_t* ow_out) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> g = get_int_array(info, idx, op, "geom", kGeomLen, kGeomNames, 0, kMaxElements);
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
                               dims4(g[kN], g[kC], g[kH], g[kW]) + " with kernel " + pair_string(g[kKh], g[kKw]) +
                               ", stride " + pair_string(g[kSh], g[kSw]) + ", padding " +
                               dims4(g[kPt], g[kPl], g[kPb], g[kPr]) + ", dilation " + pair_string(g[kDh], g[kDw]) +
                               ": the dilated kernel is larger than the padded input");
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

ConvDims conv_dims(const Conv2dParams& p, int64_t oh, int64_t ow) {
  const int64_t N = static_cast<int64_t>(p.N), C = static_cast<int64_t>(p.C), outC = static_cast<int64_t>(p.outC);
  const int64_t cg = C / static_cast<int64_t>(p.groups);
  return ConvDims{{N, C, static_cast<int64_t>(p.H), static_cast<int64_t>(p.W)},
                  {outC, cg, static_cast<int64_t>(p.kH), static_cast<int64_t>(p.kW)},
                  {outC},
                  {N, outC, oh, ow}};
}

PlannedConvArgs read_planned_conv_args(const Napi::CallbackInfo& info, const char* op, const char* weights_name) {
  PlannedConvArgs a;
  a.x = get_f32(info, 0, op, "x");
  a.weights = get_f32(info, 1, op, weights_name);
  a.b = get_f32_or_null(info, 2, op, "b");
  a.res = get_f32_or_null(info, 3, op, "residual");
  a.out = get_f32(info, 4, op, "out");
  a.p = read_conv_geom(info, 5, op, &a.oh, &a.ow);
  const ActArgs act = get_act(info, 6, op);
  a.p.act = act.code;
  a.p.act_alpha = act.alpha;
  a.p.act_beta = act.beta;
  return a;
}

}  // namespace binding
}  // namespace simdcnn
