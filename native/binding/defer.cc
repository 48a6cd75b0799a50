#include "binding/defer.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "binding/args.h"
#include "core/thread_pool.h"

// Worker-thread safety. Everything here that Node-API calls back into on its own (the async run's
// execute and complete callbacks, the plan handle's finalizer, the instance-data finalizer, the
// env cleanup hook) is a plain C callback that catches every exception: a C++ exception unwinding
// into Node-API's C frames is std::terminate, i.e. SIGABRT for the whole process. That is what
// worker.terminate() during forwardAsync used to do: Node drains the libuv work of a stopping env
// and calls its completions while the env may no longer run JS, so node-addon-api's
// Deferred::Resolve threw a Napi::Error (napi_pending_exception), its WrapCallback caught it and
// rethrew from ThrowAsJavaScriptException (napi_throw refused too), and that escaped. So the
// completion uses the C API and checks statuses instead of throwing, and settles nothing once
// the env cannot run JS. Bindings called from JS throw Napi errors as usual; when the env is
// stopping, NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (binding.gyp, CMakeLists.txt) makes
// node-addon-api drop the error it cannot throw instead of rethrowing it into Node.

namespace simdcnn {
namespace binding {
namespace {

struct Capture {
  std::vector<KernelCall> calls;
  std::vector<const char*> ops;
  // Released on the JS thread only: when the last owner (the open capture, a plan handle, an
  // async run) drops the Capture.
  std::vector<Napi::ObjectReference> pinned;
};

// The lifetime of one env as the libuv threads see it; shared by the env's DeferState, its cleanup
// hook and every async run it started, so it outlives whichever of them goes last.
struct EnvGuard {
  std::mutex mu;
  std::condition_variable idle;
  bool closing = false;  // the env's cleanup hook has run: start no more kernels
  int executing = 0;     // async runs inside their kernels right now
};

// One open capture per JS thread (each worker_thread has its own addon instance data).
struct DeferState {
  std::unique_ptr<Capture> open;
  std::shared_ptr<EnvGuard> guard = std::make_shared<EnvGuard>();
};

DeferState& state(Napi::Env env) {
  DeferState* s = env.GetInstanceData<DeferState>();
  if (!s) throw Napi::Error::New(env, "simdcnn: the addon's per-thread state is missing (the addon did not initialise)");
  return *s;
}

// Runs a capture's calls in order; the status of the first failing call, with its op's name.
Status run_calls(const Capture& c, std::string* failed_op) {
  const PoolSpinScope spin;  // the pool's workers stay awake between this run's layers
  for (size_t i = 0; i < c.calls.size(); ++i) {
    const Status s = c.calls[i]();
    if (s != Status::kOk) {
      *failed_op = c.ops[i];
      return s;
    }
  }
  return Status::kOk;
}

// One run of a capture on a libuv worker thread, settling a Promise. The run owns a reference to
// the Capture (its kernels' closures and the pins on the arrays they read and write) until its
// completion, on the JS thread, drops it: whatever JS does meanwhile (dispose the plan, let the
// handle be collected, terminate the worker), nothing the kernels touch is freed under them. A
// one-shot capture (forwardAsync) is owned by its run alone, so the pins go when it completes.
struct AsyncRun {
  std::shared_ptr<Capture> capture;
  std::shared_ptr<EnvGuard> guard;
  napi_env env = nullptr;
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  Status status = Status::kOk;
  std::string failed_op;
  bool skipped = false;  // the env was closing before the kernels started

  ~AsyncRun() {
    if (work) napi_delete_async_work(env, work);
  }
};

void execute_run(napi_env /*not usable off the JS thread*/, void* data) {
  AsyncRun* r = static_cast<AsyncRun*>(data);
  try {
    {
      std::lock_guard<std::mutex> lock(r->guard->mu);
      if (r->guard->closing) {
        r->skipped = true;
        return;
      }
      ++r->guard->executing;
    }
    try {
      r->status = run_calls(*r->capture, &r->failed_op);
    } catch (const std::bad_alloc&) {
      r->status = Status::kOutOfMemory;
      r->failed_op = "forwardAsync";
    } catch (...) {
      r->status = Status::kInvalidArgument;
      r->failed_op = "forwardAsync";
    }
    {
      std::lock_guard<std::mutex> lock(r->guard->mu);
      --r->guard->executing;
    }
    r->guard->idle.notify_all();
  } catch (...) {
    // Only the mutex can throw here (std::system_error); the run then reports a failure.
    r->status = Status::kInvalidArgument;
    r->failed_op = "forwardAsync";
  }
}

// Settles the run's Promise. Returns without settling when the env can no longer run JS: Node-API
// refuses (napi_pending_exception) and no JS is left to observe the Promise.
void settle(napi_env env, AsyncRun* r) {
  napi_value value = nullptr;
  if (r->status == Status::kOk) {
    if (napi_get_undefined(env, &value) != napi_ok) return;
    napi_resolve_deferred(env, r->deferred, value);
    return;
  }
  const std::string msg = r->failed_op + ": " + status_message(r->status);
  napi_value text = nullptr;
  if (napi_create_string_utf8(env, msg.c_str(), msg.size(), &text) != napi_ok) return;
  if (napi_create_error(env, nullptr, text, &value) != napi_ok) return;
  napi_reject_deferred(env, r->deferred, value);
}

void complete_run(napi_env env, napi_status status, void* data) {
  AsyncRun* r = static_cast<AsyncRun*>(data);
  try {
    // Pins first: a one-shot capture's arrays are free for the pool before the caller resumes.
    r->capture.reset();
    bool closing = true;
    {
      std::lock_guard<std::mutex> lock(r->guard->mu);
      closing = r->guard->closing;
    }
    if (status != napi_cancelled && !r->skipped && !closing) {
      napi_handle_scope scope = nullptr;
      if (napi_open_handle_scope(env, &scope) == napi_ok) {
        settle(env, r);
        napi_close_handle_scope(env, scope);
      }
    }
  } catch (...) {
    // Nothing may unwind into Node-API (see the top of this file); the Promise stays pending.
  }
  delete r;  // ~Capture and napi_delete_async_work do not throw
}

// Starts a run of `capture` on a libuv thread and returns its Promise.
Napi::Value start_run(Napi::Env env, std::shared_ptr<Capture> capture, const char* op) {
  auto r = std::make_unique<AsyncRun>();
  r->capture = std::move(capture);
  r->guard = state(env).guard;
  r->env = env;
  napi_value promise = nullptr, name = nullptr;
  napi_status st = napi_create_promise(env, &r->deferred, &promise);
  if (st == napi_ok) st = napi_create_string_utf8(env, "simdcnn.forwardAsync", NAPI_AUTO_LENGTH, &name);
  if (st == napi_ok) st = napi_create_async_work(env, nullptr, name, execute_run, complete_run, r.get(), &r->work);
  if (st == napi_ok) st = napi_queue_async_work(env, r->work);
  if (st != napi_ok)
    throw Napi::Error::New(env, std::string(op) + ": could not start the run on a worker thread (Node-API status " +
                                    std::to_string(static_cast<int>(st)) + ")");
  r.release();  // complete_run deletes it
  return Napi::Value(env, promise);
}

// A compiled model's recorded forward: the capture, shared with any run in flight.
struct PlanHolder {
  std::shared_ptr<Capture> capture;
};

// Finalizer of a plan handle (GC, or the env's teardown). Runs on the JS thread.
void finalize_plan(napi_env, void* data, void*) {
  try {
    delete static_cast<PlanHolder*>(data);
  } catch (...) {
  }
}

// Instance-data finalizer: the env is being torn down; an open capture (a worker terminated in the
// middle of a forward's capture) releases its pins.
void finalize_state(napi_env, void* data, void*) {
  try {
    delete static_cast<DeferState*>(data);
  } catch (...) {
  }
}

// Env cleanup hook (worker exit or terminate, main-thread teardown). Node has drained the env's
// libuv work before the hooks run, so this normally finds nothing executing; should a run still be
// inside its kernels, it waits for it: the arrays they write belong to this env's heap and the
// pins on them are about to go. Later runs of this env start no kernels.
void on_env_cleanup(void* arg) {
  auto* holder = static_cast<std::shared_ptr<EnvGuard>*>(arg);
  try {
    EnvGuard& g = **holder;
    std::unique_lock<std::mutex> lock(g.mu);
    g.closing = true;
    g.idle.wait(lock, [&] { return g.executing == 0; });
  } catch (...) {
  }
  delete holder;
}

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
  state(info.Env()).open.reset();  // ~Capture releases the pins
  return info.Env().Undefined();
}

Napi::Value RunCaptureAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeferState& s = state(env);
  if (!s.open) throw Napi::Error::New(env, "runCaptureAsync: no capture is open");
  return start_run(env, std::shared_ptr<Capture>(std::move(s.open)), "runCaptureAsync");
}

// capturePlan(): closes the open capture and returns it as a plan handle (the arrays it borrows stay
// pinned until planDispose or the handle is collected) instead of running it once.
Napi::Value CapturePlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeferState& s = state(env);
  if (!s.open) throw Napi::Error::New(env, "capturePlan: no capture is open");
  auto h = std::make_unique<PlanHolder>();
  h->capture = std::shared_ptr<Capture>(std::move(s.open));
  napi_value handle = nullptr;
  const napi_status st = napi_create_external(env, h.get(), finalize_plan, nullptr, &handle);
  if (st != napi_ok)
    throw Napi::Error::New(env, "capturePlan: could not create the plan handle (Node-API status " +
                                    std::to_string(static_cast<int>(st)) + ")");
  h.release();  // finalize_plan deletes it
  return Napi::Value(env, handle);
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
  return start_run(info.Env(), h->capture, "planRunAsync");
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

Napi::Value defer_kernel(const Napi::CallbackInfo& info, const char* op, KernelCall call,
                         const std::vector<Napi::Value>* also_pin) {
  Napi::Env env = info.Env();
  DeferState& s = state(env);
  for (size_t i = 0; i < info.Length(); ++i) {
    Napi::Value v = info[i];
    if (v.IsObject()) s.open->pinned.emplace_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  if (also_pin)
    for (const Napi::Value& v : *also_pin)
      if (v.IsObject()) s.open->pinned.emplace_back(Napi::Persistent(v.As<Napi::Object>()));
  s.open->calls.push_back(std::move(call));
  s.open->ops.push_back(op);
  return env.Undefined();
}

void forbid_capture(Napi::Env env, const char* op) {
  if (state(env).open)
    throw Napi::Error::New(env, std::string(op) + ": returns a value to JS and cannot run inside forwardAsync");
}

void register_defer(Napi::Env env, Napi::Object exports) {
  // The per-env state and its cleanup hook. The hook is added after Node-API's own hook for this env
  // (made when the addon loaded), so it runs before the env's references and finalizers go.
  auto s = std::make_unique<DeferState>();
  auto hook = std::make_unique<std::shared_ptr<EnvGuard>>(s->guard);
  napi_status st = napi_set_instance_data(env, s.get(), finalize_state, nullptr);
  if (st != napi_ok) throw Napi::Error::New(env, "simdcnn: could not set the addon's per-thread state");
  s.release();  // finalize_state deletes it
  st = napi_add_env_cleanup_hook(env, on_env_cleanup, hook.get());
  if (st != napi_ok) throw Napi::Error::New(env, "simdcnn: could not add the addon's env cleanup hook");
  hook.release();  // on_env_cleanup deletes it

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
