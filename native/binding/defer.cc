#include "binding/defer.h"

#include <memory>
#include <string>
#include <vector>

#include "binding/args.h"

namespace simdcnn {
namespace binding {
namespace {

struct Capture {
  std::vector<KernelCall> calls;
  std::vector<const char*> ops;
  std::vector<Napi::ObjectReference> pinned;
};

// One open capture per JS thread (each worker_thread has its own addon instance data).
struct DeferState {
  std::unique_ptr<Capture> open;
};

DeferState& state(Napi::Env env) {
  DeferState* s = env.GetInstanceData<DeferState>();
  if (!s) {
    s = new DeferState();
    env.SetInstanceData<DeferState>(s);
  }
  return *s;
}

class CaptureWorker : public Napi::AsyncWorker {
 public:
  CaptureWorker(Napi::Env env, std::unique_ptr<Capture> capture)
      : Napi::AsyncWorker(env, "simdcnn.forwardAsync"), capture_(std::move(capture)), deferred_(env) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    for (size_t i = 0; i < capture_->calls.size(); ++i) {
      const Status s = capture_->calls[i]();
      if (s != Status::kOk) {
        SetError(std::string(capture_->ops[i]) + ": " + status_message(s));
        return;
      }
    }
  }

  void OnOK() override {
    release();
    deferred_.Resolve(Env().Undefined());
  }

  void OnError(const Napi::Error& e) override {
    release();
    deferred_.Reject(e.Value());
  }

 private:
  void release() {
    for (auto& r : capture_->pinned) r.Reset();
    capture_.reset();
  }

  std::unique_ptr<Capture> capture_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value BeginCapture(const Napi::CallbackInfo& info) {
  DeferState& s = state(info.Env());
  if (s.open) throw Napi::Error::New(info.Env(), "beginCapture: a capture is already open");
  s.open = std::make_unique<Capture>();
  return info.Env().Undefined();
}

Napi::Value AbortCapture(const Napi::CallbackInfo& info) {
  DeferState& s = state(info.Env());
  if (s.open) {
    for (auto& r : s.open->pinned) r.Reset();
    s.open.reset();
  }
  return info.Env().Undefined();
}

Napi::Value RunCaptureAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeferState& s = state(env);
  if (!s.open) throw Napi::Error::New(env, "runCaptureAsync: no capture is open");
  auto* worker = new CaptureWorker(env, std::move(s.open));
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

Napi::Value IsCapturing(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), static_cast<bool>(state(info.Env()).open));
}

}  // namespace

bool capture_open(Napi::Env env) { return static_cast<bool>(state(env).open); }

Napi::Value defer_kernel(const Napi::CallbackInfo& info, const char* op, KernelCall call) {
  Napi::Env env = info.Env();
  DeferState& s = state(env);
  for (size_t i = 0; i < info.Length(); ++i) {
    Napi::Value v = info[i];
    if (v.IsObject()) s.open->pinned.emplace_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  s.open->calls.push_back(std::move(call));
  s.open->ops.push_back(op);
  return env.Undefined();
}

void forbid_capture(Napi::Env env, const char* op) {
  if (state(env).open)
    throw Napi::Error::New(env, std::string(op) + ": returns a value to JS and cannot run inside forwardAsync");
}

void register_defer(Napi::Env env, Napi::Object exports) {
  exports.Set("beginCapture", Napi::Function::New(env, BeginCapture, "beginCapture"));
  exports.Set("abortCapture", Napi::Function::New(env, AbortCapture, "abortCapture"));
  exports.Set("runCaptureAsync", Napi::Function::New(env, RunCaptureAsync, "runCaptureAsync"));
  exports.Set("isCapturing", Napi::Function::New(env, IsCapturing, "isCapturing"));
}

}  // namespace binding
}  // namespace simdcnn
