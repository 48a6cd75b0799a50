#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace simdcnn {
namespace {

std::atomic<int> g_spin_holds{0};  // live PoolSpinScopes

// One job at a time runs on the pool. Workers sleep on a condition variable between jobs and spin
// briefly after one, because layers issue many small parallel_for calls back to back.
class ThreadPool {
 public:
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(size_t count, size_t grain, RangeFn fn, void* ctx, int threads) {
    grain = std::max<size_t>(grain, 1);
    size_t chunks = std::min<size_t>(static_cast<size_t>(threads), (count + grain - 1) / grain);
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    // Inline when there is nothing to split, or when the pool is already in use (a nested call from
    // a worker, or another thread's concurrent call): that caller then uses only its own thread, so
    // concurrent async forwards never oversubscribe the cores.
    if (chunks <= 1 || !busy.owns_lock()) {
      if (count) fn(ctx, 0, count);
      return;
    }
    ensure_workers(static_cast<int>(chunks) - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      count_ = count;
      chunks_ = chunks;
      done_.store(0, std::memory_order_relaxed);
      participants_ = static_cast<int>(chunks) - 1;
      published_.store(generation_ + 1, std::memory_order_release);
      // Published last: a worker that sees next_ == 0 also sees the job fields above.
      next_.store(0, std::memory_order_release);
      ++generation_;
    }
    cv_.notify_all();
    work();
    // Wait for the workers' chunks.
    while (done_.load(std::memory_order_acquire) < chunks_) {
      std::this_thread::yield();
    }
  }

 private:
  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { worker_loop(id); });
    }
  }

  // Claims chunks until none are left.
  void work() {
    for (;;) {
      const size_t c = next_.fetch_add(1, std::memory_order_acq_rel);
      if (c >= chunks_) return;
      const size_t begin = count_ * c / chunks_;
      const size_t end = count_ * (c + 1) / chunks_;
      if (end > begin) fn_(ctx_, begin, end);
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  void worker_loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      // Spin for a short while before sleeping: layers issue parallel_for calls back to back, and
      // waking a sleeping thread costs 7-30 us, more than a small layer's whole work.
      const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
      while (published_.load(std::memory_order_acquire) == seen &&
             (g_spin_holds.load(std::memory_order_relaxed) > 0 || std::chrono::steady_clock::now() < spin_until)) {
        cpu_relax();
      }
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || (generation_ != seen && id < participants_); });
        if (stop_) return;
        seen = generation_;
      }
      work();
    }
  }

  static constexpr int kSpinMicros = 100;

  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  }

  std::atomic<uint64_t> published_{0};  // generation_ as workers may read it without the lock
  std::mutex busy_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  int participants_ = 0;
  RangeFn fn_ = nullptr;
  void* ctx_ = nullptr;
  size_t count_ = 0;
  size_t chunks_ = 0;
  std::atomic<size_t> next_{SIZE_MAX / 2};
  std::atomic<size_t> done_{0};
};

ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool();  // never destroyed: workers may outlive static teardown
  return *p;
}

int initial_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

std::atomic<int> g_threads{initial_threads()};

}  // namespace

void parallel_for(size_t count, size_t grain, RangeFn fn, void* ctx) {
  const int threads = g_threads.load(std::memory_order_relaxed);
  if (threads <= 1 || count <= grain) {
    if (count) fn(ctx, 0, count);
    return;
  }
  pool().run(count, grain, fn, ctx, threads);
}

PoolSpinScope::PoolSpinScope() { g_spin_holds.fetch_add(1, std::memory_order_relaxed); }
PoolSpinScope::~PoolSpinScope() { g_spin_holds.fetch_sub(1, std::memory_order_relaxed); }

int num_threads() { return g_threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) { g_threads.store(std::clamp(n, 1, 256), std::memory_order_relaxed); }

int hardware_threads() { return initial_threads(); }

}  // namespace simdcnn
