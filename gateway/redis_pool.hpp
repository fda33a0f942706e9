// A fixed set of Redis connections shared by the gateway's blocking workers. Rules of the road:
// a request leases one connection for the length of its Redis work and returns it on scope exit;
// connections connect lazily (redis_client does), so the gateway starts, and answers /healthz
// and a 503 /readyz, while Redis is down. The pool is as large as the blocking thread pool, so a
// lease never waits for long.
#pragma once

#include "actors/transport/job_queue.hpp"
#include "actors/transport/redis_client.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace proofmesh::gateway {

struct redis_connection {
  transport::redis_client client;
  std::optional<transport::job_queue> queue;       // made on first use (it creates the group)
  std::optional<transport::job_queue> completions; // the same, for the completions stream

  explicit redis_connection(const transport::redis_client_params& p) : client(p) {}
  transport::job_queue& jobs() {
    if (!queue) queue.emplace(client, transport::job_queue_params{.consumer = "gateway"});
    return *queue;
  }
  transport::job_queue& completion_queue() {
    if (!completions) {
      completions.emplace(client, transport::job_queue_params{.stream = "completions",
                                                              .consumer = "gateway"});
    }
    return *completions;
  }
};

class redis_pool {
public:
  redis_pool(const transport::redis_client_params& params, size_t size);

  class lease {
  public:
    lease(redis_pool& pool, std::unique_ptr<redis_connection> c) : pool_(&pool), c_(std::move(c)) {}
    lease(lease&&) = default;
    ~lease();
    redis_connection* operator->() { return c_.get(); }
    redis_connection& operator*() { return *c_; }

  private:
    redis_pool* pool_;
    std::unique_ptr<redis_connection> c_;
  };

  lease acquire();

private:
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<redis_connection>> free_;
};

} // namespace proofmesh::gateway
