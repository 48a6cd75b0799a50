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

// Runs a capture's calls in order; the status of the first failing call, with its op's name.
Status run_calls(const Capture& c, std::string* failed_op) {
  for (size_t i = 0; i < c.calls.size(); ++i) {
    const Status s = c.calls[i]();
    if (s != Status::kOk) {
      *failed_op = c.ops[i];
      return s;
    }
  }
  return Status::kOk;
}

// Runs a capture on a libuv worker thread. A one-shot capture (forwardAsync) is released when it
// settles; a plan's (compiled model) is shared with its JS handle and lives on.
class CaptureWorker : public Napi::AsyncWorker {
 public:
  CaptureWorker(Napi::Env env, std::shared_ptr<Capture> capture, bool release_after)
      : Napi::AsyncWorker(env, "simdcnn.forwardAsync"),
        capture_(std::move(capture)),
        release_after_(release_after),
        deferred_(env) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string op;
    const Status s = run_calls(*capture_, &op);
    if (s != Status::kOk) SetError(op + ": " + status_message(s));
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
    if (release_after_)
      for (auto& r : capture_->pinned) r.Reset();
    capture_.reset();  // on the JS thread: a plan's last owner may be this worker
  }

  std::shared_ptr<Capture> capture_;
  bool release_after_;
  Napi::Promise::Deferred deferred_;
};

// A compiled model's recorded forward: the capture, shared with any run in flight.
struct PlanHolder {
  std::shared_ptr<Capture> capture;
};

PlanHolder* plan_of(const Napi::CallbackInfo& info, const char* op) {
  if (info.Length() < 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), std::string(op) + ": plan must be a plan handle from capturePlan()");
  PlanHolder* h = info[0].As<Napi::External<PlanHolder>>().Data();
  if (!h || !h->capture) throw Napi::Error::New(info.Env(), std::string(op) + ": the plan is disposed");
  return h;
}

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
  auto* worker = new CaptureWorker(env, std::shared_ptr<Capture>(std::move(s.open)), true);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

// capturePlan(): closes the open capture and returns it as a plan handle (the arrays it borrows stay
// pinned until planDispose or the handle is collected) instead of running it once.
Napi::Value CapturePlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeferState& s = state(env);
  if (!s.open) throw Napi::Error::New(env, "capturePlan: no capture is open");
  auto* h = new PlanHolder{std::shared_ptr<Capture>(std::move(s.open))};
  return Napi::External<PlanHolder>::New(env, h, [](Napi::Env, PlanHolder* p) { delete p; });
}

// planRun(plan): runs the recorded calls now, on this thread.
Napi::Value PlanRun(const Napi::CallbackInfo& info) {
  PlanHolder* h = plan_of(info, "planRun");
  if (state(info.Env()).open) throw Napi::Error::New(info.Env(), "planRun: cannot run inside forwardAsync");
  std::string op;
  const Status st = run_calls(*h->capture, &op);
  if (st != Status::kOk) check_status(info.Env(), st, op.c_str());
  return info.Env().Undefined();
}

// planRunAsync(plan): runs the recorded calls on a libuv worker thread; returns a Promise. The
// caller must not start another run of the same plan before it settles (they share buffers).
Napi::Value PlanRunAsync(const Napi::CallbackInfo& info) {
  PlanHolder* h = plan_of(info, "planRunAsync");
  auto* worker = new CaptureWorker(info.Env(), h->capture, false);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

// planDispose(plan): drops the plan's calls and pins (a run in flight keeps them until it settles).
Napi::Value PlanDispose(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "planDispose: plan must be a plan handle from capturePlan()");
  PlanHolder* h = info[0].As<Napi::External<PlanHolder>>().Data();
  if (h) h->capture.reset();
  return info.Env().Undefined();
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
  exports.Set("capturePlan", Napi::Function::New(env, CapturePlan, "capturePlan"));
  exports.Set("planRun", Napi::Function::New(env, PlanRun, "planRun"));
  exports.Set("planRunAsync", Napi::Function::New(env, PlanRunAsync, "planRunAsync"));
  exports.Set("planDispose", Napi::Function::New(env, PlanDispose, "planDispose"));
}

}  // namespace binding
}  // namespace simdcnn
