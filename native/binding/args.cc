#include "binding/args.h"

#include <cfloat>
#include <cmath>
#include <sstream>
#include <utility>

#include "core/shape.h"
#include "kernels/act/unary.h"

namespace simdcnn {
namespace binding {

void throw_type_error(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
void throw_range_error(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

std::string shape_string(const int64_t* dims, size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

static std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "a typed array of another type";
    }
  }
  if (v.IsArray()) return "an Array";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsFunction()) return "a function";
  return "an object";
}

std::string describe_value(const Napi::Value& v) { return describe(v); }

std::string number_string(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  std::ostringstream o;
  o << d;
  return o.str();
}

// The data and length of v when it is a typed array of `want`: one napi_get_typedarray_info call
// (small models make hundreds of calls per forward; the wrapper's separate type/data/length
// queries each redo the lookup).
static bool typed_array_of(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is_typed = false;
  napi_typedarray_type type;
  return napi_is_typedarray(env, v, &is_typed) == napi_ok && is_typed &&
         napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) == napi_ok && type == want;
}

F32View get_f32(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  size_t length = 0;
  if (typed_array_of(env, info[idx], napi_float32_array, &data, &length)) {
    F32View view;
    view.data = static_cast<float*>(data);
    view.length = length;
    return view;
  }
  throw_type_error(env, std::string(op) + ": " + arg + " must be a Float32Array, got " + describe(info[idx]));
}

F32View f32_of(Napi::Env env, const Napi::Value& v, const std::string& what) {
  void* data = nullptr;
  size_t length = 0;
  if (typed_array_of(env, v, napi_float32_array, &data, &length)) {
    F32View view;
    view.data = static_cast<float*>(data);
    view.length = length;
    return view;
  }
  throw_type_error(env, what + " must be a Float32Array, got " + describe(v));
}

I32View get_i32(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  size_t length = 0;
  if (typed_array_of(env, info[idx], napi_int32_array, &data, &length)) {
    I32View view;
    view.data = static_cast<const int32_t*>(data);
    view.length = length;
    return view;
  }
  throw_type_error(env, std::string(op) + ": " + arg + " must be an Int32Array, got " + describe(info[idx]));
}

void expect_targets(Napi::Env env, const char* op, const I32View& targets, int64_t N, int64_t K) {
  if (static_cast<int64_t>(targets.length) != N)
    throw_range_error(env, std::string(op) + ": targets has " + std::to_string(targets.length) +
                               " elements, expected N = " + std::to_string(N));
  for (int64_t n = 0; n < N; ++n)
    if (targets.data[n] < 0 || targets.data[n] >= K)
      throw_range_error(env, std::string(op) + ": targets[" + std::to_string(n) + "] = " +
                                 std::to_string(targets.data[n]) + " is out of range [0, " + std::to_string(K) + ")");
}

F32View get_f32_or_null(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg) {
  Napi::Value v = info[idx];
  if (v.IsNull() || v.IsUndefined()) return F32View{};
  return get_f32(info, idx, op, arg);
}

static int64_t to_int(Napi::Env env, const Napi::Value& v, const std::string& what, int64_t lo, int64_t hi) {
  if (!v.IsNumber()) throw_type_error(env, what + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw_range_error(env, what + " must be a finite integer, got " + number_string(d));
  if (std::floor(d) != d) throw_range_error(env, what + " must be an integer, got " + number_string(d));
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    throw_range_error(env, what + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                               number_string(d));
  return static_cast<int64_t>(d);
}

// The common case without building the message strings (they cost more than a small kernel).
static bool int_in_range(const Napi::Value& v, int64_t lo, int64_t hi, int64_t* out) {
  double d = 0;
  if (napi_get_value_double(v.Env(), v, &d) != napi_ok) return false;  // not a number
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::floor(d) != d) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

int64_t get_int(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg, int64_t lo,
                int64_t hi) {
  int64_t r = 0;
  if (int_in_range(info[idx], lo, hi, &r)) return r;
  return to_int(info.Env(), info[idx], std::string(op) + ": " + arg, lo, hi);
}

double get_number(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg) {
  Napi::Value v = info[idx];
  if (!v.IsNumber()) throw_type_error(info.Env(), std::string(op) + ": " + arg + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d))
    throw_range_error(info.Env(), std::string(op) + ": " + arg + " must be finite, got " + number_string(d));
  return d;
}

void get_unary_params(const Napi::CallbackInfo& info, size_t idx, const char* op, int kind, float* alpha,
                      float* beta) {
  Napi::Env env = info.Env();
  const bool clip = kind == static_cast<int>(UnaryKind::kClip);
  auto param = [&](size_t i, const char* name) -> double {
    if (i >= info.Length() || info[i].IsUndefined()) return 0.0;
    if (!clip) return get_number(info, i, op, name);
    if (!info[i].IsNumber()) throw_type_error(env, std::string(op) + ": " + name + " must be a number, got " + describe(info[i]));
    return info[i].As<Napi::Number>().DoubleValue();
  };
  const double a = param(idx, "alpha");
  const double b = param(idx + 1, "beta");
  for (const auto& [name, v] : {std::pair<const char*, double>{"alpha", a}, {"beta", b}}) {
    const bool ok = clip ? !std::isnan(v) && (std::isinf(v) || (v >= -FLT_MAX && v <= FLT_MAX)) : (v >= -FLT_MAX && v <= FLT_MAX);
    if (!ok)
      throw_range_error(env, std::string(op) + ": " + name + " must be a " + (clip ? "non-NaN" : "finite") +
                                 " float32, got " + number_string(v));
  }
  if (clip && a > b)
    throw_range_error(env, std::string(op) + ": clip's min " + number_string(a) + " exceeds its max " + number_string(b));
  *alpha = static_cast<float>(a);
  *beta = static_cast<float>(b);
}

ActArgs get_act(const Napi::CallbackInfo& info, size_t idx, const char* op) {
  ActArgs r;
  r.code = static_cast<int>(get_int(info, idx, op,
                                    "act (0 none, 1 relu, 2 leakyRelu, 3 sigmoid, 4 tanh, 5 clip, 6 silu, 7 hardSigmoid, "
                                    "8 hardSwish, 9 sqrt, 10 erf, 11 gelu)",
                                    0, kActCodeCount - 1));
  if (r.code > 0) get_unary_params(info, idx + 1, op, r.code - 1, &r.alpha, &r.beta);
  return r;
}

bool get_bool(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg) {
  Napi::Value v = info[idx];
  if (!v.IsBoolean()) throw_type_error(info.Env(), std::string(op) + ": " + arg + " must be a boolean, got " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::vector<int64_t> get_int_array(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg,
                                   size_t len, const char* const* names, int64_t lo, int64_t hi) {
  Napi::Env env = info.Env();
  Napi::Value v = info[idx];
  // An Int32Array is read in one query: an Array costs one napi_get_element per entry (~1.2 us for a
  // convolution's 16, as much as a small layer's kernel).
  {
    void* data = nullptr;
    size_t length = 0;
    if (typed_array_of(env, v, napi_int32_array, &data, &length)) {
      if (length != len)
        throw_range_error(env, std::string(op) + ": " + arg + " must have " + std::to_string(len) +
                                   " entries, got " + std::to_string(length));
      std::vector<int64_t> out(len);
      const int32_t* d = static_cast<const int32_t*>(data);
      for (size_t i = 0; i < len; ++i) {
        out[i] = d[i];
        if (out[i] >= lo && out[i] <= hi) continue;
        std::string what = std::string(op) + ": " + arg + "[" + std::to_string(i) + "]";
        if (names && names[i]) what += std::string(" (") + names[i] + ")";
        throw_range_error(env, what + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                   std::to_string(out[i]));
      }
      return out;
    }
  }
  if (!v.IsArray())
    throw_type_error(env, std::string(op) + ": " + arg + " must be an Array or Int32Array of " + std::to_string(len) +
                              " integers, got " + describe(v));
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != len)
    throw_range_error(env, std::string(op) + ": " + arg + " must have " + std::to_string(len) + " entries, got " +
                               std::to_string(a.Length()));
  std::vector<int64_t> out(len);
  for (uint32_t i = 0; i < len; ++i) {
    Napi::Value e = a.Get(i);
    if (int_in_range(e, lo, hi, &out[i])) continue;
    std::string what = std::string(op) + ": " + arg + "[" + std::to_string(i) + "]";
    if (names && names[i]) what += std::string(" (") + names[i] + ")";
    out[i] = to_int(env, e, what, lo, hi);
  }
  return out;
}

void expect_length(Napi::Env env, const char* op, const char* arg, const F32View& v, const int64_t* dims,
                   size_t ndims) {
  int64_t expected = 0;
  if (!checked_product(dims, static_cast<int>(ndims), &expected))
    throw_range_error(env, std::string(op) + ": shape " + shape_string(dims, ndims) + " of " + arg +
                               " is too large (more than 2^31-1 elements)");
  if (static_cast<int64_t>(v.length) != expected)
    throw_range_error(env, std::string(op) + ": " + arg + " has " + std::to_string(v.length) +
                               " elements, expected " + std::to_string(expected) + " for shape " +
                               shape_string(dims, ndims));
}

bool views_overlap(const F32View& a, const F32View& b) {
  if (!a.data || !b.data || a.length == 0 || b.length == 0) return false;
  return a.data < b.data + b.length && b.data < a.data + a.length;
}

void expect_same_or_disjoint(Napi::Env env, const char* op, const F32View& x, const F32View& out) {
  if (views_overlap(x, out) && !(x.data == out.data && x.length == out.length))
    throw_range_error(env, std::string(op) + ": out must be x itself or not overlap it");
}

void expect_same_or_disjoint(Napi::Env env, const char* op, const char* in_name, const F32View& in,
                             const char* out_name, const F32View& out) {
  if (views_overlap(in, out) && !(in.data == out.data && in.length == out.length))
    throw_range_error(env, std::string(op) + ": " + out_name + " must be " + in_name + " itself or not overlap it");
}

void expect_disjoint(Napi::Env env, const char* op, const char* a_name, const F32View& a, const char* b_name,
                     const F32View& b) {
  if (views_overlap(a, b)) throw_range_error(env, std::string(op) + ": " + a_name + " must not overlap " + b_name);
}

void check_status(Napi::Env env, Status s, const char* op) {
  if (s == Status::kOk) return;
  const std::string msg = std::string(op) + ": " + status_message(s);
  if (s == Status::kInvalidArgument) throw_range_error(env, msg);
  throw Napi::Error::New(env, msg);
}

}  // namespace binding
}  // namespace simdcnn
