// The coordinator's jobs: each claimed job runs as a job actor (with a problem actor per
// problem); this class is their I/O side, called from the coordinator's one loop. Rules of the
// road:
// - start() checks the entry exactly as the gateway does (dead-letters a bad one), never
//   reopens a finished job, writes the job record, spawns the actors and replays the job's
//   ledger into them, so a job a dead coordinator left behind resumes where it stopped.
// - record() writes a result to the ledger (HSETNX: a task counts once, however often it ran)
//   before any actor sees it; a failed run is not a fact (it is retried under the same id), so
//   it goes to the actor unrecorded.
// - drain() takes what the actors said: tasks to dispatch (returned), progress (events), and
//   finished jobs (result written, then the stream entry acknowledged).
// - cancel() freezes a job's summary as its result and returns its open tasks to withdraw.
#pragma once

#include "actors/transport/job_queue.hpp"
#include "actors/transport/wire_messages.hpp"
#include "services/common/metrics.hpp"
#include "services/common/service_log.hpp"
#include "services/coordinator/coordinator_types.hpp"
#include "services/coordinator/job_ledger.hpp"
#include "services/coordinator/loop_waker.hpp"

#include <caf/scoped_actor.hpp>

#include <deque>
#include <memory>
#include <map>
#include <set>

namespace proofmesh::coordinator {

struct job_runs_params {
  job_ledger& ledger;
  transport::job_queue& queue;
  transport::redis_client& redis; // dead letters
  std::string consumer;
  const services::service_log& log;
  services::metrics_registry& metrics;
};

class job_runs {
public:
  job_runs(caf::actor_system& sys, const job_runs_params& params);
  ~job_runs();

  void start(const transport::job_entry& e);
  /// Whether the task belongs to a job running here.
  bool owns(const std::string& task_id) const;
  /// A result of one of its tasks: recorded, then given to its job's actor.
  void record(const transport::task_result_msg& received);
  std::vector<transport::task_msg> drain();
  /// Tasks the actors withdrew since the last call (a problem stopped early): to cancel.
  std::vector<std::string> take_withdrawn();
  /// Readable when the actors have written to the loop's mailbox (poll it with the sockets).
  int wake_fd() const { return waker_->fd(); }
  std::vector<std::string> cancel(const std::string& job_id);

  std::vector<std::string> running_ids() const;
  /// The stream entries of the jobs running here (to keep them from being reclaimed).
  std::vector<std::string> entries() const;
  size_t size() const { return jobs_.size(); }

private:
  struct pending_event { // a result on its way through an actor, its event not written yet
    std::string task;
    transport::task_status status;
    uint32_t elapsed_ms;
    std::string error;
  };
  struct run {
    std::string entry;
    job_actor actor;
    std::set<std::string> open;                      // dispatched, no recorded result yet
    std::map<std::string, int64_t> open_by_problem;  // as the problems last said
    std::map<std::string, std::deque<pending_event>> pending; // by problem, in order
    int64_t reported = 0; // recorded results in events so far (replayed ones from the start)
  };

  void finish(const std::string& job_id, const std::string& result_json);

  std::shared_ptr<loop_waker> waker_ = std::make_shared<loop_waker>(); // shared with the actors
  caf::scoped_actor self_;
  job_runs_params p_;
  std::map<std::string, run> jobs_;
  std::vector<std::string> withdrawn_;
  services::metric& completed_;
  services::metric& cancelled_;
  services::metric& dead_;
  services::metric& results_;
};

} // namespace proofmesh::coordinator
