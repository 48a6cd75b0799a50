#include "core/scratch.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace simdcnn {
namespace {
std::atomic<int64_t> g_native_bytes{0};
constexpr size_t kAlign = 64;
}  // namespace

void* aligned_alloc_tracked(size_t bytes) {
  if (bytes == 0) bytes = kAlign;
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  if (rounded < bytes) return nullptr;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (p) g_native_bytes.fetch_add(static_cast<int64_t>(rounded), std::memory_order_relaxed);
  return p;
}

void aligned_free_tracked(void* p, size_t bytes) {
  if (!p) return;
  if (bytes == 0) bytes = kAlign;
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  std::free(p);
  g_native_bytes.fetch_sub(static_cast<int64_t>(rounded), std::memory_order_relaxed);
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
