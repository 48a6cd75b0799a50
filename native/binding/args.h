// Argument conversion and validation for the N-API layer. Every value that crosses N-API is checked
// here (type, integer-ness, range, buffer length vs shape) before a kernel sees it. Failures throw
// Napi::TypeError / Napi::RangeError (C++ exceptions are enabled for the binding only; kernels never
// throw). Messages name the op, the argument, what was expected and what came.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace simdcnn {
namespace binding {

struct F32View {
  float* data = nullptr;
  size_t length = 0;
};

[[noreturn]] void throw_type_error(Napi::Env env, const std::string& msg);
[[noreturn]] void throw_range_error(Napi::Env env, const std::string& msg);

// "[1,3,224,224]"
std::string shape_string(const int64_t* dims, size_t n);
inline std::string shape_string(const std::vector<int64_t>& d) { return shape_string(d.data(), d.size()); }

// info[idx] must be a Float32Array (TypeError otherwise).
F32View get_f32(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg);
// What v is, for a message: "undefined", "a Float64Array", "an Array", "a number", ...
std::string describe_value(const Napi::Value& v);
// v must be a Float32Array; `what` names it in the TypeError (e.g. "sgdStep: params[3]").
F32View f32_of(Napi::Env env, const Napi::Value& v, const std::string& what);
// As get_f32, but null/undefined gives {nullptr, 0}.
F32View get_f32_or_null(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg);

// info[idx] must be a finite integer-valued number in [lo, hi] (TypeError if not a number,
// RangeError if non-integer, NaN/Infinity or out of range).
int64_t get_int(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg,
                int64_t lo, int64_t hi);
// info[idx] must be a finite number.
double get_number(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg);
bool get_bool(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg);

// The parameters of unary kind `kind` (kernels/act/unary.h) at info[idx] and info[idx + 1]
// (missing or undefined: 0), as float32: finite, except that clip's bounds may be infinite (an
// ONNX Clip without min or max) but not NaN, and clip's min may not exceed its max.
void get_unary_params(const Napi::CallbackInfo& info, size_t idx, const char* op, int kind, float* alpha,
                      float* beta);

// A kernel's fused activation: info[idx] its code (0 none, 1 + unary kind: 1 relu, 2 leakyRelu,
// 3 sigmoid, 4 tanh, 5 clip, 6 silu, 7 hardSigmoid, 8 hardSwish, 9 sqrt, 10 erf, 11 gelu), info[idx + 1]
// and info[idx + 2] its parameters as get_unary_params reads them.
struct ActArgs {
  int code = 0;
  float alpha = 0.0f, beta = 0.0f;
};
ActArgs get_act(const Napi::CallbackInfo& info, size_t idx, const char* op);

// info[idx] must be an Array of exactly `len` finite integers, each in [lo, hi], or an Int32Array of
// `len` entries in [lo, hi] (read in one query: the fast path for per-call geometry). `names` (len
// entries) names each element in error messages, e.g. {"N","C","H","W"}.
std::vector<int64_t> get_int_array(const Napi::CallbackInfo& info, size_t idx, const char* op,
                                   const char* arg, size_t len, const char* const* names,
                                   int64_t lo, int64_t hi);

// RangeError unless v.length == product(dims) (overflow-checked; the product must also stay
// within kMaxElements).
void expect_length(Napi::Env env, const char* op, const char* arg, const F32View& v,
                   const int64_t* dims, size_t ndims);
inline void expect_length(Napi::Env env, const char* op, const char* arg, const F32View& v,
                          const std::vector<int64_t>& dims) {
  expect_length(env, op, arg, v, dims.data(), dims.size());
}

// True when two views share at least one element.
bool views_overlap(const F32View& a, const F32View& b);

// RangeError unless `out` is `x` itself (in place) or does not overlap it: elementwise-indexed
// kernels may run in place, but a shifted overlap would read values already overwritten.
void expect_same_or_disjoint(Napi::Env env, const char* op, const F32View& x, const F32View& out);

// RangeError unless `out` is `in` itself or does not overlap it, naming both arguments.
void expect_same_or_disjoint(Napi::Env env, const char* op, const char* in_name, const F32View& in,
                             const char* out_name, const F32View& out);
// RangeError if the two views share an element, naming both arguments.
void expect_disjoint(Napi::Env env, const char* op, const char* a_name, const F32View& a, const char* b_name,
                     const F32View& b);

struct I32View {
  const int32_t* data = nullptr;
  size_t length = 0;
};
// info[idx] must be an Int32Array (TypeError otherwise).
I32View get_i32(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg);
// RangeError unless targets has N entries, each a class index in [0, K).
void expect_targets(Napi::Env env, const char* op, const I32View& targets, int64_t N, int64_t K);

// A double as JS would print it in a message (no trailing zeros).
std::string number_string(double d);

// Maps a kernel status to a JS Error (RangeError for kInvalidArgument).
void check_status(Napi::Env env, Status s, const char* op);

}  // namespace binding
}  // namespace simdcnn
