// batchNorm2d, channelStats, layerNorm, instanceNorm2d, batchNorm2dBackward: validate, then call kernels/norm.
#include <napi.h>

#include <cfloat>
#include <sstream>
#include <string>
#include <utility>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/norm/norm.h"

namespace simdcnn {
namespace binding {

namespace {

// PyTorch accepts any non-negative eps; it must also be a finite float32.
float get_eps(const Napi::CallbackInfo& info, size_t idx, const char* op) {
  const double eps = get_number(info, idx, op, "eps");
  if (eps < 0 || eps > FLT_MAX)
    throw_range_error(info.Env(), std::string(op) + ": eps must be a finite number >= 0, got " + number_string(eps));
  return static_cast<float>(eps);
}

// batchNorm2d(x, out, [N, C, HW], mean, variance, weight | null, bias | null, eps)
Napi::Value BatchNorm2d(const Napi::CallbackInfo& info) {
  static const char* kOp = "batchNorm2d";
  static const char* const kNames[] = {"N", "C", "HW"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 3, kNames, 1, kMaxElements);
  const F32View mean = get_f32(info, 3, kOp, "mean");
  const F32View var = get_f32(info, 4, kOp, "variance");
  const F32View w = get_f32_or_null(info, 5, kOp, "weight");
  const F32View b = get_f32_or_null(info, 6, kOp, "bias");
  const float eps = get_eps(info, 7, kOp);
  expect_length(env, kOp, "x", x, d);
  expect_length(env, kOp, "out", out, d);
  expect_length(env, kOp, "mean", mean, {d[1]});
  expect_length(env, kOp, "variance", var, {d[1]});
  if (w.data) expect_length(env, kOp, "weight", w, {d[1]});
  if (b.data) expect_length(env, kOp, "bias", b, {d[1]});
  expect_same_or_disjoint(env, kOp, x, out);
  expect_disjoint(env, kOp, "out", out, "mean", mean);
  expect_disjoint(env, kOp, "out", out, "variance", var);
  expect_disjoint(env, kOp, "out", out, "weight", w);
  expect_disjoint(env, kOp, "out", out, "bias", b);
  return run_kernel(info, kOp, [=] { return batch_norm2d(x.data, out.data, d[0], d[1], d[2], mean.data, var.data, w.data, b.data, eps); });
}

// channelStats(x, [N, C, HW], mean, variance)
Napi::Value ChannelStats(const Napi::CallbackInfo& info) {
  static const char* kOp = "channelStats";
  static const char* const kNames[] = {"N", "C", "HW"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const std::vector<int64_t> d = get_int_array(info, 1, kOp, "dims", 3, kNames, 1, kMaxElements);
  const F32View mean = get_f32(info, 2, kOp, "mean");
  const F32View var = get_f32(info, 3, kOp, "variance");
  expect_length(env, kOp, "x", x, d);
  expect_length(env, kOp, "mean", mean, {d[1]});
  expect_length(env, kOp, "variance", var, {d[1]});
  int64_t count = 0;
  if (!checked_mul(d[0], d[2], &count))
    throw_range_error(env, std::string(kOp) + ": N*HW is too large");
  expect_disjoint(env, kOp, "mean", mean, "x", x);
  expect_disjoint(env, kOp, "variance", var, "x", x);
  expect_disjoint(env, kOp, "mean", mean, "variance", var);
  return run_kernel(info, kOp, [=] { return channel_stats(x.data, d[0], d[1], d[2], mean.data, var.data); });
}

// (x, out, dims, weight | null, bias | null, eps), shared by layerNorm and instanceNorm2d: x and
// out have prod(dims) elements, weight and bias dims[1] (inner for layerNorm, C for instanceNorm2d).
struct AffineNormArgs {
  F32View x, out, w, b;
  std::vector<int64_t> d;
  float eps;
};

AffineNormArgs read_affine_norm_args(const Napi::CallbackInfo& info, const char* op, size_t ndims,
                                     const char* const* names) {
  Napi::Env env = info.Env();
  AffineNormArgs a;
  a.x = get_f32(info, 0, op, "x");
  a.out = get_f32(info, 1, op, "out");
  a.d = get_int_array(info, 2, op, "dims", ndims, names, 1, kMaxElements);
  a.w = get_f32_or_null(info, 3, op, "weight");
  a.b = get_f32_or_null(info, 4, op, "bias");
  a.eps = get_eps(info, 5, op);
  expect_length(env, op, "x", a.x, a.d);
  expect_length(env, op, "out", a.out, a.d);
  if (a.w.data) expect_length(env, op, "weight", a.w, {a.d[1]});
  if (a.b.data) expect_length(env, op, "bias", a.b, {a.d[1]});
  expect_same_or_disjoint(env, op, a.x, a.out);
  expect_disjoint(env, op, "out", a.out, "weight", a.w);
  expect_disjoint(env, op, "out", a.out, "bias", a.b);
  return a;
}

// layerNorm(x, out, [outer, inner], weight | null, bias | null, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  static const char* kOp = "layerNorm";
  static const char* const kNames[] = {"outer", "inner"};
  const AffineNormArgs a = read_affine_norm_args(info, kOp, 2, kNames);
  return run_kernel(info, kOp, [=] { return layer_norm(a.x.data, a.out.data, a.d[0], a.d[1], a.w.data, a.b.data, a.eps); });
}

// instanceNorm2d(x, out, [N, C, HW], weight | null, bias | null, eps)
Napi::Value InstanceNorm2d(const Napi::CallbackInfo& info) {
  static const char* kOp = "instanceNorm2d";
  static const char* const kNames[] = {"N", "C", "HW"};
  const AffineNormArgs a = read_affine_norm_args(info, kOp, 3, kNames);
  return run_kernel(info, kOp, [=] {
    return instance_norm2d(a.x.data, a.out.data, a.d[0], a.d[1], a.d[2], a.w.data, a.b.data, a.eps);
  });
}

// batchNorm2dBackward(x, dy, [N, C, HW], weight | null, eps, dx | null, dweight | null, dbias | null)
// Training mode: the batch statistics are recomputed from x. Null outputs are skipped.
Napi::Value BatchNorm2dBackward(const Napi::CallbackInfo& info) {
  static const char* kOp = "batchNorm2dBackward";
  static const char* const kNames[] = {"N", "C", "HW"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View dy = get_f32(info, 1, kOp, "dy");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 3, kNames, 1, kMaxElements);
  const F32View w = get_f32_or_null(info, 3, kOp, "weight");
  const float eps = get_eps(info, 4, kOp);
  const F32View dx = get_f32_or_null(info, 5, kOp, "dx");
  const F32View dw = get_f32_or_null(info, 6, kOp, "dweight");
  const F32View db = get_f32_or_null(info, 7, kOp, "dbias");
  expect_length(env, kOp, "x", x, d);
  expect_length(env, kOp, "dy", dy, d);
  if (w.data) expect_length(env, kOp, "weight", w, {d[1]});
  if (dx.data) expect_length(env, kOp, "dx", dx, d);
  if (dw.data) expect_length(env, kOp, "dweight", dw, {d[1]});
  if (db.data) expect_length(env, kOp, "dbias", db, {d[1]});
  int64_t count = 0;
  if (!checked_mul(d[0], d[2], &count)) throw_range_error(env, std::string(kOp) + ": N*HW is too large");
  // Outputs are written while the inputs are still being read: no aliasing at all.
  const char* const in_names[] = {"x", "dy", "weight"};
  const F32View* ins[] = {&x, &dy, &w};
  const char* const out_names[] = {"dx", "dweight", "dbias"};
  const F32View* outs[] = {&dx, &dw, &db};
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 3; ++i) expect_disjoint(env, kOp, out_names[o], *outs[o], in_names[i], *ins[i]);
    for (int j = o + 1; j < 3; ++j) expect_disjoint(env, kOp, out_names[o], *outs[o], out_names[j], *outs[j]);
  }
  // Through run_kernel so a training step's capture records it.
  return run_kernel(info, kOp, [=] {
    return batch_norm2d_backward(x.data, dy.data, d[0], d[1], d[2], w.data, eps, dx.data, dw.data, db.data);
  });
}

// runningStatsUpdate(runningMean, runningVar, mean, variance, momentum, unbias): all four arrays of
// one length C; momentum in [0, 1]; unbias finite and >= 0 (M / (M - 1) for M values per channel).
Napi::Value RunningStatsUpdate(const Napi::CallbackInfo& info) {
  static const char* kOp = "runningStatsUpdate";
  Napi::Env env = info.Env();
  const F32View rm = get_f32(info, 0, kOp, "runningMean");
  const F32View rv = get_f32(info, 1, kOp, "runningVar");
  const F32View mean = get_f32(info, 2, kOp, "mean");
  const F32View var = get_f32(info, 3, kOp, "variance");
  const double momentum = get_number(info, 4, kOp, "momentum");
  const double unbias = get_number(info, 5, kOp, "unbias");
  if (!(momentum >= 0 && momentum <= 1))
    throw_range_error(env, std::string(kOp) + ": momentum must be in [0, 1], got " + number_string(momentum));
  if (!(unbias >= 0)) throw_range_error(env, std::string(kOp) + ": unbias must be >= 0, got " + number_string(unbias));
  for (const auto& [name, v] : {std::pair<const char*, const F32View*>{"runningVar", &rv}, {"mean", &mean},
                                {"variance", &var}})
    if (v->length != rm.length)
      throw_range_error(env, std::string(kOp) + ": " + name + " has " + std::to_string(v->length) +
                                 " entries, expected " + std::to_string(rm.length) + " (runningMean's, C)");
  if (static_cast<int64_t>(rm.length) > kMaxElements)
    throw_range_error(env, std::string(kOp) + ": runningMean has more than 2^31-1 entries");
  expect_disjoint(env, kOp, "runningMean", rm, "runningVar", rv);
  for (const F32View* out : {&rm, &rv}) {
    const char* name = out == &rm ? "runningMean" : "runningVar";
    expect_disjoint(env, kOp, name, *out, "mean", mean);
    expect_disjoint(env, kOp, name, *out, "variance", var);
  }
  return run_kernel(info, kOp, [=] {
    return running_stats_update(rm.data, rv.data, mean.data, var.data, static_cast<int64_t>(rm.length), momentum, unbias);
  });
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm2d", Napi::Function::New(env, BatchNorm2d, "batchNorm2d"));
  exports.Set("channelStats", Napi::Function::New(env, ChannelStats, "channelStats"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("instanceNorm2d", Napi::Function::New(env, InstanceNorm2d, "instanceNorm2d"));
  exports.Set("batchNorm2dBackward", Napi::Function::New(env, BatchNorm2dBackward, "batchNorm2dBackward"));
  exports.Set("runningStatsUpdate", Napi::Function::New(env, RunningStatsUpdate, "runningStatsUpdate"));
}

}  // namespace binding
}  // namespace simdcnn
