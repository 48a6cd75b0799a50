// How a convolution (forward or backward) spreads its per-(image, group) GEMMs over the pool: big
// GEMMs one at a time with threads inside each, many small ones (batches, groups) one per task,
// each single-threaded. Either way every output is computed by exactly one job in a fixed order,
// so results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>

#include "core/status.h"
#include "core/thread_pool.h"
#include "kernels/gemm/gemm.h"

namespace simdcnn {
namespace {

// run_one(job, threads_inside) -> Status, for job in [0, jobs); macs_per_job sizes the split.
template <class RunOne>
Status run_conv_jobs(size_t jobs, double macs_per_job, RunOne&& run_one) {
  if (jobs == 1 || macs_per_job >= static_cast<double>(kGemmThreadingThreshold)) {
    for (size_t t = 0; t < jobs; ++t) {
      const Status s = run_one(t, true);
      if (s != Status::kOk) return s;
    }
    return Status::kOk;
  }
  std::atomic<bool> failed{false};
  const size_t grain = std::max<size_t>(
      1, static_cast<size_t>(static_cast<double>(kGemmThreadingThreshold) / std::max(macs_per_job, 1.0)));
  parallel_for(jobs, grain, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t)
      if (run_one(t, false) != Status::kOk) failed.store(true, std::memory_order_relaxed);
  });
  return failed.load() ? Status::kOutOfMemory : Status::kOk;
}

}  // namespace
}  // namespace simdcnn
