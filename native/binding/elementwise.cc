// binary: validate, then call kernels/elementwise.
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/elementwise/binary.h"
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

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided, "copyStrided"));
}

}  // namespace binding
}  // namespace simdcnn
