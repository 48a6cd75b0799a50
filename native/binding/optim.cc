// sgdStep, adamStep: validate the lists of parameters and state, then call kernels/optim. The
// kernels keep a pointer into every array of the lists, so a capture pins each of them.
#include <napi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/shape.h"
#include "kernels/optim/optim.h"

namespace simdcnn {
namespace binding {

namespace {

// One list argument (params, grads, buffers, m, v): its entries as views, the values to pin.
struct ArrayList {
  std::vector<F32View> views;  // {nullptr, 0} for a null entry
};

// info[idx] must be an Array of `count` entries (count < 0: any, and it sets the count), each a
// Float32Array (or null where nullable) of lengths[i] floats (lengths empty: any length up to
// kMaxElements, and they are set). Validated values go to pins.
ArrayList get_list(const Napi::CallbackInfo& info, size_t idx, const char* op, const char* arg, bool nullable,
                   std::vector<size_t>* lengths, std::vector<Napi::Value>* pins) {
  Napi::Env env = info.Env();
  Napi::Value v = info[idx];
  if (!v.IsArray())
    throw_type_error(env, std::string(op) + ": " + arg + " must be an Array of Float32Array" +
                              (nullable ? " or null" : "") + ", got " + describe_value(v));
  Napi::Array list = v.As<Napi::Array>();
  const size_t n = list.Length();
  const bool set_lengths = lengths->empty() && idx == 0;
  if (!set_lengths && n != lengths->size())
    throw_range_error(env, std::string(op) + ": " + arg + " has " + std::to_string(n) + " entries, expected " +
                               std::to_string(lengths->size()) + " (one per parameter)");
  ArrayList out;
  out.views.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string what = std::string(op) + ": " + arg + "[" + std::to_string(i) + "]";
    Napi::Value e = list.Get(static_cast<uint32_t>(i));
    if (nullable && (e.IsNull() || e.IsUndefined())) {
      out.views.push_back(F32View{});
      continue;
    }
    const F32View view = f32_of(env, e, what);
    if (set_lengths) {
      if (static_cast<int64_t>(view.length) > kMaxElements)
        throw_range_error(env, what + " has more than 2^31-1 elements");
      lengths->push_back(view.length);
    } else if (view.length != (*lengths)[i]) {
      throw_range_error(env, what + " has " + std::to_string(view.length) + " elements, expected " +
                                 std::to_string((*lengths)[i]) + " (params[" + std::to_string(i) + "]'s length)");
    }
    out.views.push_back(view);
    pins->push_back(e);
  }
  return out;
}

struct Span {
  const float* begin;
  const float* end;
  bool written;
  const char* list;
  size_t index;
};

std::string span_name(const Span& s) { return std::string(s.list) + "[" + std::to_string(s.index) + "]"; }

// RangeError when an array the kernel writes shares an element with any other array of the call
// (two read-only arrays may overlap: two parameters may share a gradient buffer's contents).
// Sorted by start, one sweep: an interval overlaps an earlier one exactly when it starts before the
// furthest end seen so far.
void expect_no_write_overlap(Napi::Env env, const char* op, std::vector<Span> spans) {
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const Span& s) { return s.begin == s.end; }), spans.end());
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  const Span* far_any = nullptr;      // the span reaching furthest so far
  const Span* far_written = nullptr;  // the written span reaching furthest so far
  for (const Span& s : spans) {
    const Span* hit = nullptr;
    if (s.written && far_any && far_any->end > s.begin) hit = far_any;
    else if (far_written && far_written->end > s.begin) hit = far_written;
    if (hit) {
      const bool same = hit->begin == s.begin && hit->end == s.end;
      throw_range_error(env, std::string(op) + ": " + span_name(s) + (same ? " is the same array as " : " overlaps ") +
                                 span_name(*hit) + (s.written && hit->written ? " (both are written)" : " (one is written)"));
    }
    if (!far_any || s.end > far_any->end) far_any = &s;
    if (s.written && (!far_written || s.end > far_written->end)) far_written = &s;
  }
}

void add_spans(std::vector<Span>* spans, const ArrayList& l, bool written, const char* name) {
  for (size_t i = 0; i < l.views.size(); ++i)
    if (l.views[i].data) spans->push_back(Span{l.views[i].data, l.views[i].data + l.views[i].length, written, name, i});
}

F32View get_hyper(const Napi::CallbackInfo& info, size_t idx, const char* op, size_t count, const char* layout) {
  const F32View h = get_f32(info, idx, op, "hyper");
  if (h.length != count)
    throw_range_error(info.Env(), std::string(op) + ": hyper has " + std::to_string(h.length) + " entries, expected " +
                                      std::to_string(count) + " (" + layout + ")");
  return h;
}

// sgdStep(params, grads, buffers, hyper): buffers[i] null means no momentum for params[i].
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  static const char* kOp = "sgdStep";
  Napi::Env env = info.Env();
  std::vector<size_t> lengths;
  std::vector<Napi::Value> pins;
  const ArrayList params = get_list(info, 0, kOp, "params", false, &lengths, &pins);
  const ArrayList grads = get_list(info, 1, kOp, "grads", false, &lengths, &pins);
  const ArrayList buffers = get_list(info, 2, kOp, "buffers", true, &lengths, &pins);
  const F32View hyper = get_hyper(info, 3, kOp, kSgdHyperCount,
                                  "lr, momentum, dampening, weightDecay, nesterov, firstStep");
  std::vector<Span> spans;
  add_spans(&spans, params, true, "params");
  add_spans(&spans, grads, false, "grads");
  add_spans(&spans, buffers, true, "buffers");
  spans.push_back(Span{hyper.data, hyper.data + hyper.length, false, "hyper", 0});
  expect_no_write_overlap(env, kOp, std::move(spans));
  std::vector<OptimSlot> slots(lengths.size());
  for (size_t i = 0; i < slots.size(); ++i)
    slots[i] = OptimSlot{params.views[i].data, grads.views[i].data, buffers.views[i].data, nullptr, lengths[i]};
  const float* h = hyper.data;
  return run_kernel_pinning(info, kOp, pins, [slots = std::move(slots), h] {
    return sgd_step(slots.data(), slots.size(), h);
  });
}

// adamStep(params, grads, m, v, hyper)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  static const char* kOp = "adamStep";
  Napi::Env env = info.Env();
  std::vector<size_t> lengths;
  std::vector<Napi::Value> pins;
  const ArrayList params = get_list(info, 0, kOp, "params", false, &lengths, &pins);
  const ArrayList grads = get_list(info, 1, kOp, "grads", false, &lengths, &pins);
  const ArrayList m = get_list(info, 2, kOp, "m", false, &lengths, &pins);
  const ArrayList v = get_list(info, 3, kOp, "v", false, &lengths, &pins);
  const F32View hyper = get_hyper(info, 4, kOp, kAdamHyperCount, "lr, beta1, beta2, eps, weightDecay, c1, c2");
  std::vector<Span> spans;
  add_spans(&spans, params, true, "params");
  add_spans(&spans, grads, false, "grads");
  add_spans(&spans, m, true, "m");
  add_spans(&spans, v, true, "v");
  spans.push_back(Span{hyper.data, hyper.data + hyper.length, false, "hyper", 0});
  expect_no_write_overlap(env, kOp, std::move(spans));
  std::vector<OptimSlot> slots(lengths.size());
  for (size_t i = 0; i < slots.size(); ++i)
    slots[i] = OptimSlot{params.views[i].data, grads.views[i].data, m.views[i].data, v.views[i].data, lengths[i]};
  const float* h = hyper.data;
  return run_kernel_pinning(info, kOp, pins, [slots = std::move(slots), h] {
    return adam_step(slots.data(), slots.size(), h);
  });
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
}

}  // namespace binding
}  // namespace simdcnn
