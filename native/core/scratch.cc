#include "core/scratch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace simdcnn {
namespace {
std::atomic<int64_t> g_native_bytes{0};
constexpr size_t kAlign = 64;
// Every block starts with a 64-byte header holding its usable size (keeps the data aligned).
constexpr size_t kHeader = 64;

// Freed blocks of at least kCacheMinBytes are kept for the next call instead of going back to the
// C library: kernels allocate the same large scratch (Winograd planes, padded images, packed
// panels) on every call, and glibc returns such blocks to the kernel, so each call paid a page
// fault per 4 KiB again (~10 us each in a VM, a fifth of some layers' time). The cache is bounded
// and its blocks stay counted in native_bytes(): memory().native shows them.
constexpr size_t kCacheMinBytes = size_t{64} << 10;
constexpr size_t kCacheMaxBytes = size_t{64} << 20;
constexpr size_t kCacheMaxBlocks = 32;

struct Cache {
  std::mutex mu;
  std::vector<void*> blocks;  // raw pointers (header included)
  size_t bytes = 0;           // usable bytes of the cached blocks
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: kernels may run during static teardown
  return *c;
}

size_t block_size(void* raw) {
  size_t n;
  std::memcpy(&n, raw, sizeof(n));
  return n;
}

// Best fit among cached blocks of usable size in [rounded, 2 * rounded].
void* take_cached(size_t rounded) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  size_t best = c.blocks.size();
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    const size_t n = block_size(c.blocks[i]);
    if (n >= rounded && n / 2 <= rounded && (best == c.blocks.size() || n < block_size(c.blocks[best]))) best = i;
  }
  if (best == c.blocks.size()) return nullptr;
  void* raw = c.blocks[best];
  c.blocks[best] = c.blocks.back();
  c.blocks.pop_back();
  c.bytes -= block_size(raw);
  return raw;
}

bool put_cached(void* raw, size_t n) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (c.blocks.size() >= kCacheMaxBlocks || c.bytes + n > kCacheMaxBytes) return false;
  c.blocks.push_back(raw);
  c.bytes += n;
  return true;
}
}  // namespace

void* aligned_alloc_tracked(size_t bytes) {
  if (bytes == 0) bytes = kAlign;
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  if (rounded < bytes || rounded > SIZE_MAX - kHeader) return nullptr;
  if (rounded >= kCacheMinBytes) {
    if (void* raw = take_cached(rounded)) return static_cast<char*>(raw) + kHeader;  // still counted
  }
  void* raw = std::aligned_alloc(kAlign, rounded + kHeader);
  if (!raw) return nullptr;
  std::memcpy(raw, &rounded, sizeof(rounded));
  g_native_bytes.fetch_add(static_cast<int64_t>(rounded), std::memory_order_relaxed);
  return static_cast<char*>(raw) + kHeader;
}

void aligned_free_tracked(void* p, size_t /*bytes*/) {
  if (!p) return;
  void* raw = static_cast<char*>(p) - kHeader;
  const size_t n = block_size(raw);
  if (n >= kCacheMinBytes && put_cached(raw, n)) return;
  std::free(raw);
  g_native_bytes.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
}

void release_scratch_cache() {
  Cache& c = cache();
  std::vector<void*> blocks;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    blocks.swap(c.blocks);
    c.bytes = 0;
  }
  for (void* raw : blocks) {
    g_native_bytes.fetch_sub(static_cast<int64_t>(block_size(raw)), std::memory_order_relaxed);
    std::free(raw);
  }
}

int64_t native_bytes() { return g_native_bytes.load(std::memory_order_relaxed); }

bool ScratchBuffer::reserve(size_t floats) {
  if (floats <= floats_ && data_) return true;
  release();
  if (floats > (SIZE_MAX / sizeof(float)) - 16) return false;
  data_ = static_cast<float*>(aligned_alloc_tracked(floats * sizeof(float)));
  if (!data_) return false;
  floats_ = floats;
  return true;
}

void ScratchBuffer::release() {
  if (data_) aligned_free_tracked(data_, floats_ * sizeof(float));
  data_ = nullptr;
  floats_ = 0;
}

}  // namespace simdcnn
