// A fixed pool of worker threads for data-parallel loops on the CPU backend.
// parallel_for splits [0, n) into contiguous chunks, one per thread, and the calling thread takes
// a chunk too, so a pool of size 1 runs everything inline with no synchronisation. Chunks are
// contiguous and their boundaries depend only on n and the pool size, so each output element is
// always computed by the same code path: results are bit-identical from run to run.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace proofmesh {

class thread_pool {
public:
  /// Threads in total, the caller included; 0 means std::thread::hardware_concurrency().
  explicit thread_pool(size_t num_threads = 0);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  size_t num_threads() const { return workers_.size() + 1; }

  /// Calls fn(begin, end) on disjoint chunks covering [0, n); returns when all are done.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn);

  /// The process-wide pool used by the CPU kernels.
  static thread_pool& global();

private:
  void worker_loop(size_t index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0;
  size_t generation_ = 0;
  size_t pending_ = 0;
  bool stopping_ = false;
};

} // namespace proofmesh
