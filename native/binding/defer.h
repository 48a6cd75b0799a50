// Deferred execution for async inference (Module.forwardAsync, OnnxModel.runAsync).
//
// JS opens a capture with beginCapture(), runs an ordinary forward through the native backend, and
// closes it with runCaptureAsync(), which returns a Promise. While a capture is open, every binding
// validates its arguments exactly as in a synchronous call, then, instead of running its kernel,
// appends the kernel call to the capture and pins the JS objects it borrows (typed arrays) with
// references. runCaptureAsync() runs the list in order on a libuv worker thread (napi async work),
// so the event loop stays free, then releases the references and settles the Promise. Bindings
// that return a value to JS (losses) cannot be deferred and throw while a capture is open. Safe
// under worker.terminate(): see the top of defer.cc.
#pragma once
#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "binding/args.h"
#include "core/status.h"

namespace simdcnn {
namespace binding {

using KernelCall = std::function<Status()>;

// True while a capture is open.
bool capture_open(Napi::Env env);

// Appends `call` to the open capture, pinning every object argument of `info` and every object in
// `also_pin` (the typed arrays inside an Array argument, which the kernel keeps pointers into and
// JS may drop from its list: the binding passes exactly the values it validated). Returns undefined.
Napi::Value defer_kernel(const Napi::CallbackInfo& info, const char* op, KernelCall call,
                         const std::vector<Napi::Value>* also_pin = nullptr);

// Runs `call` now (and maps its status to a JS error), or appends it to the open capture, pinning
// every object argument of `info`. Returns undefined. A template so that the common, synchronous
// case calls the lambda directly: wrapping its captures (a convolution's geometry and pointers) in
// a std::function allocated on the heap at every call.
template <class F>
Napi::Value run_kernel(const Napi::CallbackInfo& info, const char* op, F&& call) {
  Napi::Env env = info.Env();
  if (!capture_open(env)) {
    check_status(env, call(), op);
    return env.Undefined();
  }
  return defer_kernel(info, op, KernelCall(std::forward<F>(call)));
}

// As run_kernel, also pinning the objects in also_pin while a capture is open.
template <class F>
Napi::Value run_kernel_pinning(const Napi::CallbackInfo& info, const char* op, const std::vector<Napi::Value>& also_pin,
                               F&& call) {
  Napi::Env env = info.Env();
  if (!capture_open(env)) {
    check_status(env, call(), op);
    return env.Undefined();
  }
  return defer_kernel(info, op, KernelCall(std::forward<F>(call)), &also_pin);
}

// Throws a JS Error if a capture is open (for bindings whose result JS needs synchronously).
void forbid_capture(Napi::Env env, const char* op);

void register_defer(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace simdcnn
