// A fixed pool of worker threads for intra-op parallelism (no OpenMP in the shipped binary).
// parallel_for splits [0, count) into contiguous chunks; the calling thread takes part. Calls from
// several threads at once (concurrent async forwards) never oversubscribe: whoever cannot get the
// pool runs its loop on its own thread.
#pragma once
#include <cstddef>

namespace simdcnn {

// fn(ctx, begin, end) processes items [begin, end). Must not throw.
using RangeFn = void (*)(void* ctx, size_t begin, size_t end);

// Runs fn over [0, count) in at most num_threads() chunks of at least `grain` items each.
void parallel_for(size_t count, size_t grain, RangeFn fn, void* ctx);

// Convenience wrapper for lambdas: parallel_for(count, grain, [&](size_t b, size_t e) { ... }).
template <typename F>
inline void parallel_for(size_t count, size_t grain, F&& f) {
  parallel_for(count, grain,
               [](void* ctx, size_t b, size_t e) { (*static_cast<F*>(ctx))(b, e); },
               static_cast<void*>(&f));
}

// While at least one exists (anywhere), idle pool workers keep spinning instead of falling asleep
// 100 us after their last job: a recorded forward holds one, so the runs of small layers that stay
// on one thread between its parallel ones (MobileNetV3-S: SE blocks, 7x7 maps) do not put the
// workers to sleep and make the next parallel layer pay a 10-50 us wake-up.
class PoolSpinScope {
 public:
  PoolSpinScope();
  ~PoolSpinScope();
  PoolSpinScope(const PoolSpinScope&) = delete;
  PoolSpinScope& operator=(const PoolSpinScope&) = delete;
};

int num_threads();
// Clamped to [1, 256]. Takes effect for the next parallel_for.
void set_num_threads(int n);
int hardware_threads();

}  // namespace simdcnn
