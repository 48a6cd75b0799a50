// Runs every registered test once per ISA this machine supports (the scalar path always).
#include <cstdio>
#include <cstring>

#include "core/cpu.h"
#include "core/dispatch.h"
#include "core/thread_pool.h"
#include "test/harness.h"

namespace simdcnn {
namespace test {
std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
int& failures() {
  static int f = 0;
  return f;
}
}  // namespace test
}  // namespace simdcnn

int main(int argc, char** argv) {
  using namespace simdcnn;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  const Isa isas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon};
  int passed = 0, failed = 0;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (Isa isa : isas) {
      if (!isa_supported(isa)) continue;
      set_active_isa(isa);
      for (auto& tc : test::registry()) {
        if (filter && !std::strstr(tc.name, filter)) continue;
        const int before = test::failures();
        tc.fn();
        const bool ok = test::failures() == before;
        std::printf("%s %s [%s, %d thread%s]\n", ok ? "ok  " : "FAIL", tc.name, isa_name(isa), threads,
                    threads == 1 ? "" : "s");
        (ok ? passed : failed)++;
      }
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
