#include "core/dispatch.h"

#include <atomic>

namespace simdcnn {
namespace {
std::atomic<int> g_isa{-1};
}

Isa active_isa() {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v < 0) {
    // First use without an explicit choice (e.g. from the test binary): the best supported ISA.
    v = static_cast<int>(best_isa());
    g_isa.store(v, std::memory_order_relaxed);
  }
  return static_cast<Isa>(v);
}

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) isa = Isa::kScalar;
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace simdcnn
