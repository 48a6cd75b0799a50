// Aligned, accounted native memory. Every byte native code holds between calls (scratch buffers,
// packed-weight caches) is allocated here, so memory().native tells the truth.
#pragma once
#include <cstddef>
#include <cstdint>

namespace simdcnn {

// 64-byte aligned allocation counted in native_bytes(). Returns nullptr on failure (never throws).
void* aligned_alloc_tracked(size_t bytes);
void aligned_free_tracked(void* p, size_t bytes);

// Bytes currently held by aligned_alloc_tracked, including freed large blocks kept (at most
// 64 MiB) for reuse by the next call.
int64_t native_bytes();

// Frees the kept blocks.
void release_scratch_cache();

// A growable scratch buffer owned by one call (RAII). Use for per-call temporaries such as im2col
// columns or packed panels. data() is nullptr if the allocation failed: check it and return
// Status::kOutOfMemory.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  explicit ScratchBuffer(size_t floats) { reserve(floats); }
  ~ScratchBuffer() { release(); }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  // Ensures capacity for `floats` floats; keeps the buffer when already big enough.
  bool reserve(size_t floats);
  float* data() const { return data_; }
  size_t capacity() const { return floats_; }
  void release();

 private:
  float* data_ = nullptr;
  size_t floats_ = 0;
};

}  // namespace simdcnn
