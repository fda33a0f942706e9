#include "actors/common/thread_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace proofmesh {

namespace {

// Chunk i of n items split over k threads: contiguous and balanced to within one item.
std::pair<size_t, size_t> chunk(size_t n, size_t k, size_t i) {
  size_t base = n / k;
  size_t extra = n % k;
  size_t begin = i * base + std::min(i, extra);
  size_t end = begin + base + (i < extra ? 1 : 0);
  return {begin, end};
}

} // namespace

thread_pool::thread_pool(size_t num_threads) {
  if (num_threads == 0) {
    num_threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  }
  for (size_t i = 1; i < num_threads; ++i) {
    workers_.emplace_back([this, i] { worker_loop(i); });
  }
}

thread_pool::~thread_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) {
    w.join();
  }
}

void thread_pool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn) {
  size_t k = num_threads();
  if (n == 0) {
    return;
  }
  if (k == 1 || n == 1) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    pending_ = workers_.size();
    ++generation_;
  }
  wake_.notify_all();
  auto [b, e] = chunk(n, k, 0);
  if (b < e) {
    fn(b, e);
  }
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void thread_pool::worker_loop(size_t index) {
  size_t seen = 0;
  for (;;) {
    const std::function<void(size_t, size_t)>* job;
    size_t n;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) {
        return;
      }
      seen = generation_;
      job = job_;
      n = job_n_;
    }
    auto [b, e] = chunk(n, num_threads(), index);
    if (b < e) {
      (*job)(b, e);
    }
    {
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) {
        done_.notify_one();
      }
    }
  }
}

thread_pool& thread_pool::global() {
  // PROOFMESH_THREADS overrides the core count, e.g. to measure scaling.
  static thread_pool pool([] {
    const char* env = std::getenv("PROOFMESH_THREADS");
    return env ? static_cast<size_t>(std::strtoul(env, nullptr, 10)) : size_t{0};
  }());
  return pool;
}

} // namespace proofmesh
