// Accounted scratch memory: large freed blocks are kept for reuse (bounded) and stay counted.
#include <cstdint>

#include "core/scratch.h"
#include "test/harness.h"

namespace simdcnn {
namespace {

TEST_CASE("scratch: large blocks are reused, stay counted, and the cache is bounded") {
  release_scratch_cache();
  const int64_t base = native_bytes();
  float* first = nullptr;
  {
    ScratchBuffer a(size_t{1} << 18);  // 1 MiB
    CHECK(a.data() != nullptr);
    first = a.data();
    a.data()[(size_t{1} << 18) - 1] = 1.0f;  // the whole block is usable
  }
  CHECK(native_bytes() - base >= (int64_t{1} << 20));  // kept, and counted
  {
    ScratchBuffer b((size_t{1} << 18) - 100);  // a slightly smaller request reuses the block
    CHECK(b.data() == first);
  }
  // Many blocks: the cache keeps at most 64 MiB.
  for (int i = 0; i < 4; ++i) {
    ScratchBuffer bufs[40];
    for (auto& s : bufs) CHECK(s.reserve(size_t{1} << 19));  // 2 MiB each
  }
  CHECK(native_bytes() - base <= (int64_t{64} << 20) + (int64_t{1} << 20));
  // Small blocks are never kept.
  release_scratch_cache();
  const int64_t after_release = native_bytes();
  { ScratchBuffer s(100); CHECK(native_bytes() > after_release); }
  CHECK(native_bytes() == after_release);
  CHECK(after_release == base);
}

}  // namespace
}  // namespace simdcnn
