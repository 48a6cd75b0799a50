// Addon entry: selects the ISA once (SIMDCNN_ISA or the best the CPU and OS support), then
// registers every op family. No JS handles are kept in statics, so the addon loads in several
// worker_threads at once.
#include <napi.h>

#include <cstdlib>
#include <string>

#if defined(_WIN32)
#define NOMINMAX
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include "binding/args.h"
#include "binding/defer.h"
#include "binding/registry.h"
#include "core/cpu.h"
#include "core/dispatch.h"
#include "core/scratch.h"
#include "core/thread_pool.h"

namespace simdcnn {
namespace binding {
namespace {

bool g_forced = false;

// Keeps this image loaded for the life of the process. Node unloads an addon (dlclose) when the
// last env that loaded it goes away, e.g. the only worker_thread that required simdcnn exits. The
// intra-op pool's threads and the scratch cache are process-wide and never destroyed (kernels may
// run during static teardown), so after an unload the pool's sleeping threads woke up in unmapped
// code (SIGSEGV), and every reload started another pool and another cache. Pinned, a later load
// reuses them.
void pin_image() {
#if defined(_WIN32)
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                     reinterpret_cast<LPCWSTR>(&pin_image), &self);
#else
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&pin_image), &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);  // never closed
#endif
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", isa_name(active_isa()));
  o.Set("forced", g_forced);
  const CpuFeatures& f = cpu_features();
  Napi::Array feats = Napi::Array::New(env);
  uint32_t n = 0;
  auto add = [&](bool has, const char* name) {
    if (has) feats.Set(n++, name);
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.avx512f, "avx512f");
  add(f.avx512dq, "avx512dq");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.os_ymm, "os-ymm");
  add(f.os_zmm, "os-zmm");
  add(f.neon, "neon");
  add(f.dotprod, "dotprod");
  add(f.fp16, "fp16");
  add(f.bf16, "bf16");
  add(f.i8mm, "i8mm");
  o.Set("features", feats);
  o.Set("threads", num_threads());
  o.Set("hardwareThreads", hardware_threads());
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  set_num_threads(static_cast<int>(get_int(info, 0, "setNumThreads", "n", 1, 256)));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

Napi::Value NativeBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(native_bytes()));
}

Napi::Value ReleaseScratch(const Napi::CallbackInfo& info) {
  release_scratch_cache();
  return info.Env().Undefined();
}

}  // namespace

void register_core(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("nativeBytes", Napi::Function::New(env, NativeBytes, "nativeBytes"));
  exports.Set("releaseScratch", Napi::Function::New(env, ReleaseScratch, "releaseScratch"));
}

}  // namespace binding
}  // namespace simdcnn

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace simdcnn;
  static bool pinned = (binding::pin_image(), true);
  (void)pinned;
  const char* forced = std::getenv("SIMDCNN_ISA");
  if (forced && *forced) {
    Isa isa;
    std::string error;
    if (!parse_isa(forced, &isa, &error)) {
      Napi::Error::New(env, "simdcnn: " + error).ThrowAsJavaScriptException();
      return exports;
    }
    set_active_isa(isa);
    binding::g_forced = true;
  } else {
    set_active_isa(best_isa());
  }
  binding::register_core(env, exports);
  binding::register_defer(env, exports);
  binding::register_conv(env, exports);
  binding::register_conv_winograd(env, exports);
  binding::register_conv_packed(env, exports);
  binding::register_pool(env, exports);
  binding::register_norm(env, exports);
  binding::register_act(env, exports);
  binding::register_elementwise(env, exports);
  binding::register_loss(env, exports);
  binding::register_optim(env, exports);
  return exports;
}

NODE_API_MODULE(simdcnn, Init)
