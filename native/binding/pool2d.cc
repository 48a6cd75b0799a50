// pool2d, globalPool2d, pool2dBackward: validate, then call kernels/pool.
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/pool/pool2d.h"

namespace simdcnn {
namespace binding {

namespace {

std::string pair(int64_t a, int64_t b) { return "[" + std::to_string(a) + "," + std::to_string(b) + "]"; }

// geom = [N, C, H, W, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode] at
// info[geom_idx], the mode code and countIncludePad right after it. Validates the whole geometry
// (messages start with op) and returns it with the output size.
Pool2dParams get_pool_params(const Napi::CallbackInfo& info, size_t geom_idx, const char* kOp, int64_t* OH,
                             int64_t* OW) {
  static const char* const kNames[] = {"N", "C", "H", "W", "kH", "kW", "strideH", "strideW",
                                       "padH", "padW", "dilationH", "dilationW", "ceilMode"};
  Napi::Env env = info.Env();
  // Sizes, kernel, stride and dilation >= 1; padding >= 0; ceilMode 0|1.
  const std::vector<int64_t> g = get_int_array(info, geom_idx, kOp, "geom", 13, kNames, 0, kMaxElements);
  for (int i = 0; i < 12; ++i)
    if (i != 8 && i != 9 && g[i] < 1)
      throw_range_error(env, std::string(kOp) + ": geom[" + std::to_string(i) + "] (" + kNames[i] +
                                 ") must be >= 1, got " + std::to_string(g[i]));
  if (g[12] > 1)
    throw_range_error(env, std::string(kOp) + ": geom[12] (ceilMode) must be 0 or 1, got " + std::to_string(g[12]));
  const int64_t mode = get_int(info, geom_idx + 1, kOp, "mode (0 max, 1 avg, 2 min)", 0, 2);
  const bool count_include_pad = get_bool(info, geom_idx + 2, kOp, "countIncludePad");

  Pool2dParams p;
  p.N = g[0];
  p.C = g[1];
  p.H = g[2];
  p.W = g[3];
  p.kH = g[4];
  p.kW = g[5];
  p.stride_h = g[6];
  p.stride_w = g[7];
  p.pad_h = g[8];
  p.pad_w = g[9];
  p.dilation_h = g[10];
  p.dilation_w = g[11];
  p.ceil_mode = g[12] == 1;
  p.mode = static_cast<PoolMode>(mode);
  p.count_include_pad = count_include_pad;

  switch (pool2d_check(p, OH, OW)) {
    case PoolGeomError::kNone: break;
    case PoolGeomError::kPadTooLarge:
      throw_range_error(env, std::string(kOp) + ": padding " + pair(p.pad_h, p.pad_w) +
                                 " must be at most half the kernel " + pair(p.kH, p.kW) + " (at most " +
                                 pair(p.kH / 2, p.kW / 2) + ")");
    case PoolGeomError::kAvgDilation:
      throw_range_error(env, std::string(kOp) + ": avg pooling supports only dilation [1,1], got " +
                                 pair(p.dilation_h, p.dilation_w));
    case PoolGeomError::kEmptyOutput:
      throw_range_error(env, std::string(kOp) + ": kernel " + pair(p.kH, p.kW) + " with dilation " +
                                 pair(p.dilation_h, p.dilation_w) + " does not fit input " + pair(p.H, p.W) +
                                 " with padding " + pair(p.pad_h, p.pad_w) + " (output size would be < 1)");
    case PoolGeomError::kTooLarge:
      throw_range_error(env, std::string(kOp) + ": geometry too large (more than 2^31-1 elements)");
    case PoolGeomError::kWindowTooLarge:
      throw_range_error(env, std::string(kOp) + ": kernel " + pair(p.kH, p.kW) + " with dilation " +
                                 pair(p.dilation_h, p.dilation_w) + " and padding " + pair(p.pad_h, p.pad_w) +
                                 " spans more than " + std::to_string(kMaxPoolWindow) + " cells along an axis");
    case PoolGeomError::kBadSize:
      throw_range_error(env, std::string(kOp) + ": invalid geometry");
  }
  return p;
}

// pool2d(x, out, geom, mode, countIncludePad)
Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  static const char* kOp = "pool2d";
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  int64_t OH = 0, OW = 0;
  const Pool2dParams p = get_pool_params(info, 2, kOp, &OH, &OW);
  expect_length(env, kOp, "x", x, {p.N, p.C, p.H, p.W});
  expect_length(env, kOp, "out", out, {p.N, p.C, OH, OW});
  if (views_overlap(x, out)) throw_range_error(env, std::string(kOp) + ": out must not overlap x");
  return run_kernel(info, kOp, [=] { return pool2d(x.data, out.data, p); });
}

// pool2dBackward(x, dy, dx, geom, mode, countIncludePad): dx (overwritten) = d pool2d / d x.
Napi::Value Pool2dBackward(const Napi::CallbackInfo& info) {
  static const char* kOp = "pool2dBackward";
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View dy = get_f32(info, 1, kOp, "dy");
  const F32View dx = get_f32(info, 2, kOp, "dx");
  int64_t OH = 0, OW = 0;
  const Pool2dParams p = get_pool_params(info, 3, kOp, &OH, &OW);
  expect_length(env, kOp, "x", x, {p.N, p.C, p.H, p.W});
  expect_length(env, kOp, "dy", dy, {p.N, p.C, OH, OW});
  expect_length(env, kOp, "dx", dx, {p.N, p.C, p.H, p.W});
  if (views_overlap(dx, x)) throw_range_error(env, std::string(kOp) + ": dx must not overlap x");
  if (views_overlap(dx, dy)) throw_range_error(env, std::string(kOp) + ": dx must not overlap dy");
  // Through run_kernel so a training step's capture records it.
  return run_kernel(info, kOp, [=] { return pool2d_backward(x.data, dy.data, dx.data, p); });
}

// globalPool2d(x, out, [N, C, HW], mode)
Napi::Value GlobalPool2d(const Napi::CallbackInfo& info) {
  static const char* kOp = "globalPool2d";
  static const char* const kNames[] = {"N", "C", "HW"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 3, kNames, 1, kMaxElements);
  const int64_t mode = get_int(info, 3, kOp, "mode (0 max, 1 avg)", 0, 1);
  expect_length(env, kOp, "x", x, d);
  expect_length(env, kOp, "out", out, {d[0], d[1]});
  if (views_overlap(x, out)) throw_range_error(env, std::string(kOp) + ": out must not overlap x");
  return run_kernel(info, kOp, [=] { return global_pool2d(x.data, out.data, d[0], d[1], d[2], static_cast<GlobalPoolMode>(mode)); });
}

// globalPool2dBackward(x, dy, dx, [N, C, HW], mode): x and dx [N, C, HW], dy [N, C].
Napi::Value GlobalPool2dBackward(const Napi::CallbackInfo& info) {
  static const char* kOp = "globalPool2dBackward";
  static const char* const kNames[] = {"N", "C", "HW"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View dy = get_f32(info, 1, kOp, "dy");
  const F32View dx = get_f32(info, 2, kOp, "dx");
  const std::vector<int64_t> d = get_int_array(info, 3, kOp, "dims", 3, kNames, 1, kMaxElements);
  const int64_t mode = get_int(info, 4, kOp, "mode (0 max, 1 avg)", 0, 1);
  expect_length(env, kOp, "x", x, d);
  expect_length(env, kOp, "dy", dy, {d[0], d[1]});
  expect_length(env, kOp, "dx", dx, d);
  expect_disjoint(env, kOp, "dx", dx, "x", x);
  expect_disjoint(env, kOp, "dx", dx, "dy", dy);
  return run_kernel(info, kOp, [=] {
    return global_pool2d_backward(x.data, dy.data, dx.data, d[0], d[1], d[2], static_cast<GlobalPoolMode>(mode));
  });
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2d", Napi::Function::New(env, Pool2d, "pool2d"));
  exports.Set("globalPool2d", Napi::Function::New(env, GlobalPool2d, "globalPool2d"));
  exports.Set("pool2dBackward", Napi::Function::New(env, Pool2dBackward, "pool2dBackward"));
  exports.Set("globalPool2dBackward", Napi::Function::New(env, GlobalPool2dBackward, "globalPool2dBackward"));
}

}  // namespace binding
}  // namespace simdcnn
