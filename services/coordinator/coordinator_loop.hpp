// The coordinator's one I/O thread: its sockets, its Redis connections and its jobs, turned by a
// loop of three steps:
//   take_new_work();   // claim new and reclaimed entries, carry out cancellations
//   collect_results(); // wait on the workers' sockets and take what they sent
//   dispatch();        // record it, hand it to the jobs, send what it unlocked
// Rules of the road:
// - Idle (no job or completion here), the loop waits on Redis for work; busy, it waits on the
//   workers' sockets and reads Redis without blocking every 5 ms (Redis times blocked reads out
//   on its 10 Hz clock, which cost 100 ms a task).
// - Redis going away (an outage of any length, LOADING after a restart, BUSY with a script) stops
//   no one: the Redis steps back off (100 ms doubling to 2 s), the sockets are served, results
//   wait in order in memory, and /healthz says what the loop waits for. When Redis answers, the
//   queued writes go out in their order and the loop goes on.
#pragma once

#include "actors/transport/job_queue.hpp"
#include "actors/transport/role_router.hpp"
#include "services/common/health_status.hpp"
#include "services/common/metrics.hpp"
#include "services/common/metrics_server.hpp"
#include "services/common/service_log.hpp"
#include "services/coordinator/completion_runs.hpp"
#include "services/coordinator/coordinator_service.hpp"
#include "services/coordinator/job_ledger.hpp"
#include "services/coordinator/job_runs.hpp"

#include <array>
#include <memory>

namespace proofmesh::coordinator {

class coordinator_loop {
public:
  explicit coordinator_loop(const coordinator_config& c);

  void run(const std::atomic<bool>& stop_flag);
  size_t jobs_left() const { return jobs_.size(); }

private:
  using clock = std::chrono::steady_clock;

  void take_new_work();
  void collect_results();
  void dispatch();

  void read_streams();
  void check_cancellations();
  void reclaim();
  void take_result(const transport::task_result_msg& result);
  void send(std::vector<transport::task_msg> tasks);
  void withdraw(const std::vector<std::string>& tasks);
  void update_gauges();
  /// A Redis step's outcome: null for success; an error starts (or lengthens) the backoff.
  void redis_answered(const std::optional<std::string>& error);
  bool idle() const { return jobs_.size() == 0 && completions_.size() == 0; }

  coordinator_config config_;
  transport::redis_client queue_redis_;
  transport::redis_client ledger_redis_;
  transport::job_queue queue_;
  transport::job_queue completion_queue_;
  completion_runs completions_;
  job_ledger ledger_;
  zmq::context_t context_;
  std::array<transport::role_router, 3> routers_;
  services::metrics_registry metrics_;
  services::health_status health_;
  services::service_log log_;
  caf::actor_system_config caf_config_;
  caf::actor_system system_;
  job_runs jobs_;
  std::unique_ptr<services::metrics_server> metrics_endpoint_;
  // Tasks a router refused (its queue is full): failed at once, so their owners retry them
  // after a backoff instead of waiting for them forever.
  std::vector<transport::task_result_msg> refused_;
  struct gauges {
    services::metric* jobs_running;
    services::metric* queue_depth;
    std::array<services::metric*, 3> queued, in_flight, workers, dropped;
  } gauges_{};
  clock::time_point last_depth_{}, last_reclaim_{}, last_read_{};
  clock::time_point redis_due_{};                     // the next Redis step, while backing off
  std::chrono::milliseconds redis_backoff_{0};        // 0: Redis answers
  bool waited_on_redis_ = false; // this turn's stream read blocked (the loop was idle)
};

} // namespace proofmesh::coordinator
