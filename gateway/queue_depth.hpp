// A stream's depth (entries waiting or running) as the gateway bounds submits with it: read from
// Redis at most every half second (XINFO on every submit would double a submit's Redis work; a
// bound need not be exact to the millisecond), and bumped at once by this gateway's own adds.
#pragma once

#include "actors/common/unix_time.hpp"
#include "actors/transport/job_queue.hpp"

#include <atomic>
#include <cstdint>

namespace proofmesh::gateway {

class queue_depth {
public:
  int64_t get(transport::job_queue& queue) {
    const int64_t now = unix_ms();
    if (now - read_at_ms_.load() > 500) {
      depth_.store(queue.depth());
      read_at_ms_.store(now);
    }
    return depth_.load();
  }
  void added() { depth_.fetch_add(1); }

private:
  std::atomic<int64_t> depth_{0};
  std::atomic<int64_t> read_at_ms_{0};
};

} // namespace proofmesh::gateway
