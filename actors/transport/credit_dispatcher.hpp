// Credit-based dispatch of one role's tasks to its workers: the coordinator side's bookkeeping,
// with no sockets, so the rules are tested alone. Rules of the road:
// - A worker receives at most the credits it has advertised (free sequence slots); each task
//   sent spends one, and the worker grants more as it frees slots.
// - Tasks wait in arrival order, in two lanes: raw completions (the OpenAI API, where a person
//   waits) ahead of search tasks (a job's thousands, where throughput counts). So a completion
//   waits for the first free slot of its pool, not behind a job's whole backlog. assign() hands
//   them to the workers with the most free credit first, so replicas share the load.
// - A worker that has been silent (no heartbeat, credit or result) for longer than the timeout
//   is dropped; its in-flight tasks go back to the front of the queue with attempt + 1, and its
//   late results are ignored (a result counts only from the worker the task was sent to). A task
//   that has lost max_requeues workers is not queued again but abandoned: its owner hears of it
//   as a failure and decides (a task that kills every worker it meets must not loop forever).
// - Every count has a limit: queued tasks, workers, credits per worker.
#pragma once

#include "actors/transport/wire_messages.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace proofmesh::transport {

using worker_id = std::string; // the ZeroMQ routing identity of the worker's DEALER
using steady_time = std::chrono::steady_clock::time_point;

struct credit_dispatcher_config {
  std::chrono::milliseconds heartbeat_timeout{10000};
  size_t max_queued = 1 << 20;
  size_t max_workers = 4096;
  uint32_t max_credit = 65536; // per worker
  uint32_t max_requeues = 3;   // workers a task may lose before it is abandoned
};

struct assignment {
  worker_id worker;
  task_msg task;
};

class credit_dispatcher {
public:
  explicit credit_dispatcher(const credit_dispatcher_config& config) : config_(config) {}

  /// Queues a task; false (and nothing queued) past max_queued.
  bool enqueue(task_msg task);
  /// A worker grants `slots` more credit (a new worker is registered); false when refused (too
  /// many workers).
  bool grant(const worker_id& w, uint32_t slots, steady_time now);
  /// Any message from the worker proves it alive.
  void touch(const worker_id& w, steady_time now);
  /// A heartbeat: alive, and when the worker runs nothing and nothing of ours is on its way to
  /// it, it is owed its whole capacity. That is how a coordinator that took over from a dead
  /// one learns the credit an idle worker granted to its predecessor. False when refused (too
  /// many workers).
  bool heartbeat(const worker_id& w, uint32_t capacity, uint32_t worker_in_flight,
                 steady_time now);
  /// The worker's result for `task_id`: true when it was in flight there (count it), false for
  /// a late or unknown result (ignore it).
  bool complete(const worker_id& w, const std::string& task_id, steady_time now);
  /// Removes a queued or in-flight task (its job was cancelled); returns the worker that runs it.
  std::optional<worker_id> cancel(const std::string& task_id);
  /// Drops the workers silent past the timeout and requeues their tasks; returns the dropped.
  std::vector<worker_id> expire(steady_time now);
  /// Tasks that lost too many workers since the last call (not queued again).
  std::vector<task_msg> take_abandoned();
  /// Pairs queued tasks with free credit.
  std::vector<assignment> assign();

  /// Whether `w` runs `task_id` now (progress from anyone else is stale).
  bool runs(const worker_id& w, const std::string& task_id) const {
    auto it = owner_.find(task_id);
    return it != owner_.end() && it->second == w;
  }
  size_t num_queued() const { return interactive_.size() + queue_.size(); }
  size_t num_in_flight() const { return owner_.size(); }
  size_t num_workers() const { return workers_.size(); }
  uint32_t credit(const worker_id& w) const;

private:
  struct worker_state {
    uint32_t credit = 0;
    steady_time last_seen;
    std::map<std::string, task_msg> in_flight;
  };

  std::deque<task_msg>& lane_of(const task_msg& t) {
    return std::holds_alternative<complete_input>(t.input) ? interactive_ : queue_;
  }

  credit_dispatcher_config config_;
  std::deque<task_msg> interactive_; // raw completions: served first
  std::deque<task_msg> queue_;       // search tasks
  std::map<worker_id, worker_state> workers_;
  std::map<std::string, worker_id> owner_; // in-flight task -> worker
  std::map<std::string, uint32_t> lost_;   // task -> workers it lost (while it is ours)
  std::vector<task_msg> abandoned_;
};

} // namespace proofmesh::transport
