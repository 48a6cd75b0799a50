// binary: validate, then call kernels/elementwise.
#include <napi.h>

#include <cfloat>
#include <string>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/elementwise/binary.h"
#include "kernels/elementwise/binary_backward.h"
#include "kernels/elementwise/copy.h"

namespace simdcnn {
namespace binding {

namespace {

bool same(const F32View& a, const F32View& b) { return a.data == b.data && a.length == b.length; }

// binary(a, b, out, [N, C, inner], kind, bMode)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  static const char* kOp = "binary";
  static const char* const kNames[] = {"N", "C", "inner"};
  Napi::Env env = info.Env();
  const F32View a = get_f32(info, 0, kOp, "a");
  const F32View b = get_f32(info, 1, kOp, "b");
  const F32View out = get_f32(info, 2, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 3, kOp, "dims", 3, kNames, 1, kMaxElements);
  const int64_t kind = get_int(info, 4, kOp, "kind (0 add, 1 sub, 2 mul, 3 div)", 0, 3);
  const int64_t mode = get_int(info, 5, kOp, "bMode (0 same shape, 1 channel)", 0, 1);
  expect_length(env, kOp, "a", a, d);
  expect_length(env, kOp, "out", out, d);
  if (mode == 0) {
    expect_length(env, kOp, "b", b, d);
  } else {
    expect_length(env, kOp, "b", b, {d[1]});
  }
  // Elementwise in place (out is a, or out is b in same-shape mode) is fine; any other overlap is not.
  if (views_overlap(out, a) && !same(out, a)) throw_range_error(env, std::string(kOp) + ": out must be a itself or not overlap it");
  if (views_overlap(out, b) && !(mode == 0 && same(out, b)))
    throw_range_error(env, std::string(kOp) + (mode == 0 ? ": out must be b itself or not overlap it"
                                                         : ": out must not overlap b"));
  return run_kernel(info, kOp, [=] { return binary(a.data, b.data, out.data, d[0], d[1], d[2], static_cast<BinaryKind>(kind),
                           static_cast<BroadcastMode>(mode)); });
}

// copyStrided(x, out, rank, [len, count_0, xStride_0, outStride_0, ...]): runs of len floats over a
// grid of rank axes (Concat inputs into their slices, Transpose, Slice). Every float either side
// touches is checked against the buffers before the kernel runs.
Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  static const char* kOp = "copyStrided";
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  const int rank = static_cast<int>(get_int(info, 2, kOp, "rank", 0, kCopyMaxRank));
  const std::vector<int64_t> d = get_int_array(info, 3, kOp, "dims (len, then count, xStride, outStride per axis)",
                                               static_cast<size_t>(1 + 3 * rank), nullptr, 0, kMaxElements);
  const int64_t len = d[0];
  CopyAxis axes[kCopyMaxRank];
  bool empty = len == 0;
  for (int k = 0; k < rank; ++k) {
    axes[k] = CopyAxis{d[1 + 3 * k], d[2 + 3 * k], d[3 + 3 * k]};
    if (axes[k].count == 0) empty = true;
  }
  if (!empty) {
    // The last float touched: sum (count - 1) * stride + len; each term is kept within kMaxElements,
    // so the sum of at most 7 of them cannot overflow.
    int64_t x_end = len, y_end = len;
    for (int k = 0; k < rank; ++k) {
      const int64_t c = axes[k].count - 1;
      if ((axes[k].x_stride && c > kMaxElements / axes[k].x_stride) || (axes[k].y_stride && c > kMaxElements / axes[k].y_stride))
        throw_range_error(env, std::string(kOp) + ": axis " + std::to_string(k) + " spans more than " +
                                   std::to_string(kMaxElements) + " floats");
      x_end += c * axes[k].x_stride;
      y_end += c * axes[k].y_stride;
    }
    if (x_end > static_cast<int64_t>(x.length) || y_end > static_cast<int64_t>(out.length))
      throw_range_error(env, std::string(kOp) + ": the copy reads " + std::to_string(x_end) + " floats of x and writes " +
                                 std::to_string(y_end) + " of out, which hold " + std::to_string(x.length) + " and " +
                                 std::to_string(out.length));
    if (views_overlap(x, out)) throw_range_error(env, std::string(kOp) + ": out must not overlap x");
  }
  return run_kernel(info, kOp, [=] { return copy_strided(x.data, out.data, len, axes, rank); });
}

// channelSum(dy, out, [N, C, inner]): out[c] = sum of dy[n, c, :] over n.
Napi::Value ChannelSum(const Napi::CallbackInfo& info) {
  static const char* kOp = "channelSum";
  static const char* const kNames[] = {"N", "C", "inner"};
  Napi::Env env = info.Env();
  const F32View dy = get_f32(info, 0, kOp, "dy");
  const F32View out = get_f32(info, 1, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 3, kNames, 1, kMaxElements);
  expect_length(env, kOp, "dy", dy, d);
  expect_length(env, kOp, "out", out, {d[1]});
  expect_disjoint(env, kOp, "out", out, "dy", dy);
  return run_kernel(info, kOp, [=] { return channel_sum(dy.data, out.data, d[0], d[1], d[2]); });
}

// binaryBackward(a, b, dy, [N, C, inner], kind, bMode, da | null, db | null): the gradients of
// binary (kind and bMode as binary's). da has a's shape, db b's.
Napi::Value BinaryBackward(const Napi::CallbackInfo& info) {
  static const char* kOp = "binaryBackward";
  static const char* const kNames[] = {"N", "C", "inner"};
  Napi::Env env = info.Env();
  const F32View a = get_f32(info, 0, kOp, "a");
  const F32View b = get_f32(info, 1, kOp, "b");
  const F32View dy = get_f32(info, 2, kOp, "dy");
  const std::vector<int64_t> d = get_int_array(info, 3, kOp, "dims", 3, kNames, 1, kMaxElements);
  const int64_t kind = get_int(info, 4, kOp, "kind (0 add, 1 sub, 2 mul, 3 div)", 0, 3);
  const int64_t mode = get_int(info, 5, kOp, "bMode (0 same shape, 1 channel)", 0, 1);
  const F32View da = get_f32_or_null(info, 6, kOp, "da");
  const F32View db = get_f32_or_null(info, 7, kOp, "db");
  expect_length(env, kOp, "a", a, d);
  expect_length(env, kOp, "dy", dy, d);
  if (mode == 0) expect_length(env, kOp, "b", b, d);
  else expect_length(env, kOp, "b", b, {d[1]});
  if (da.data) expect_length(env, kOp, "da", da, d);
  if (db.data) {
    if (mode == 0) expect_length(env, kOp, "db", db, d);
    else expect_length(env, kOp, "db", db, {d[1]});
  }
  expect_disjoint(env, kOp, "da", da, "db", db);
  // Elementwise, an output may be an input of its shape itself; the channel sums and b[c] are read
  // across the planes, so db (channel) and b (channel) overlap nothing that is written.
  expect_same_or_disjoint(env, kOp, "a", a, "da", da);
  expect_same_or_disjoint(env, kOp, "dy", dy, "da", da);
  if (mode == 0) {
    expect_same_or_disjoint(env, kOp, "b", b, "da", da);
    expect_same_or_disjoint(env, kOp, "a", a, "db", db);
    expect_same_or_disjoint(env, kOp, "b", b, "db", db);
    expect_same_or_disjoint(env, kOp, "dy", dy, "db", db);
  } else {
    expect_disjoint(env, kOp, "da", da, "b", b);
    expect_disjoint(env, kOp, "db", db, "a", a);
    expect_disjoint(env, kOp, "db", db, "b", b);
    expect_disjoint(env, kOp, "db", db, "dy", dy);
  }
  return run_kernel(info, kOp, [=] {
    return binary_backward(a.data, b.data, dy.data, da.data, db.data, d[0], d[1], d[2], static_cast<BinaryKind>(kind),
                           static_cast<BroadcastMode>(mode));
  });
}

// fill(out, value): value a finite float32.
Napi::Value Fill(const Napi::CallbackInfo& info) {
  static const char* kOp = "fill";
  Napi::Env env = info.Env();
  const F32View out = get_f32(info, 0, kOp, "out");
  const double value = get_number(info, 1, kOp, "value");
  if (!(value >= -FLT_MAX && value <= FLT_MAX))
    throw_range_error(env, std::string(kOp) + ": value must be a finite float32, got " + number_string(value));
  if (static_cast<int64_t>(out.length) > kMaxElements)
    throw_range_error(env, std::string(kOp) + ": out has more than 2^31-1 elements");
  const float v = static_cast<float>(value);
  return run_kernel(info, kOp, [=] { return fill_floats(out.data, static_cast<int64_t>(out.length), v); });
}

// The equal-length pair of copy and accumulate.
void expect_same_length(Napi::Env env, const char* op, const char* a_name, const F32View& a, const char* b_name,
                        const F32View& b) {
  if (a.length != b.length)
    throw_range_error(env, std::string(op) + ": " + a_name + " has " + std::to_string(a.length) + " elements but " +
                               b_name + " has " + std::to_string(b.length) + " (lengths must match)");
  if (static_cast<int64_t>(a.length) > kMaxElements)
    throw_range_error(env, std::string(op) + ": " + a_name + " has more than 2^31-1 elements");
}

// copy(src, dst)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  static const char* kOp = "copy";
  Napi::Env env = info.Env();
  const F32View src = get_f32(info, 0, kOp, "src");
  const F32View dst = get_f32(info, 1, kOp, "dst");
  expect_same_length(env, kOp, "src", src, "dst", dst);
  expect_same_or_disjoint(env, kOp, "src", src, "dst", dst);
  return run_kernel(info, kOp, [=] { return copy_floats(src.data, dst.data, static_cast<int64_t>(dst.length)); });
}

// accumulate(dst, src): dst += src.
Napi::Value Accumulate(const Napi::CallbackInfo& info) {
  static const char* kOp = "accumulate";
  Napi::Env env = info.Env();
  const F32View dst = get_f32(info, 0, kOp, "dst");
  const F32View src = get_f32(info, 1, kOp, "src");
  expect_same_length(env, kOp, "dst", dst, "src", src);
  expect_same_or_disjoint(env, kOp, "src", src, "dst", dst);
  return run_kernel(info, kOp, [=] {
    return binary(dst.data, src.data, dst.data, 1, 1, static_cast<int64_t>(dst.length), BinaryKind::kAdd,
                  BroadcastMode::kSame);
  });
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided, "copyStrided"));
  exports.Set("channelSum", Napi::Function::New(env, ChannelSum, "channelSum"));
  exports.Set("binaryBackward", Napi::Function::New(env, BinaryBackward, "binaryBackward"));
  exports.Set("fill", Napi::Function::New(env, Fill, "fill"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("accumulate", Napi::Function::New(env, Accumulate, "accumulate"));
}

}  // namespace binding
}  // namespace simdcnn
