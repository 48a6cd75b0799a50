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

// copyBlocks(x, out, [blocks, blockLen, xStride, outStride]): block b of blockLen floats from
// x[b * xStride] to out[b * outStride] (a Concat's input written into its slice of the output).
Napi::Value CopyBlocks(const Napi::CallbackInfo& info) {
  static const char* kOp = "copyBlocks";
  static const char* const kNames[] = {"blocks", "blockLen", "xStride", "outStride"};
  Napi::Env env = info.Env();
  const F32View x = get_f32(info, 0, kOp, "x");
  const F32View out = get_f32(info, 1, kOp, "out");
  const std::vector<int64_t> d = get_int_array(info, 2, kOp, "dims", 4, kNames, 0, kMaxElements);
  const int64_t blocks = d[0], len = d[1];
  if (blocks > 1 && (d[2] < len || d[3] < len)) {
    throw_range_error(env, std::string(kOp) + ": strides must be >= blockLen " + std::to_string(len) + ", got xStride " +
                               std::to_string(d[2]) + " and outStride " + std::to_string(d[3]));
  }
  // The last float each side touches: (blocks - 1) * stride + blockLen, all terms <= 2^31, so no
  // overflow in int64.
  const auto span = [&](int64_t stride) { return blocks == 0 || len == 0 ? 0 : (blocks - 1) * stride + len; };
  if (span(d[2]) > static_cast<int64_t>(x.length) || span(d[3]) > static_cast<int64_t>(out.length)) {
    throw_range_error(env, std::string(kOp) + ": " + std::to_string(blocks) + " blocks of " + std::to_string(len) +
                               " need x of " + std::to_string(span(d[2])) + " and out of " + std::to_string(span(d[3])) +
                               " floats, got " + std::to_string(x.length) + " and " + std::to_string(out.length));
  }
  if (span(d[2]) > 0 && views_overlap(x, out)) throw_range_error(env, std::string(kOp) + ": out must not overlap x");
  return run_kernel(info, kOp, [=] { return copy_blocks(x.data, out.data, blocks, len, d[2], d[3]); });
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("copyBlocks", Napi::Function::New(env, CopyBlocks, "copyBlocks"));
}

}  // namespace binding
}  // namespace simdcnn
