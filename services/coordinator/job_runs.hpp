// The coordinator's jobs: each claimed job runs as a job actor (with a problem actor per
// problem); this class is their I/O side, called from the coordinator's one loop. Rules of the
// road:
// - Everything that touches Redis happens in flush(), in order, and a write leaves its queue only
//   once Redis took it: a Redis that goes away (an outage, LOADING after a restart, BUSY with a
//   script) stops the queue where it is, and the next flush() goes on from there. Nothing is
//   lost, and since every write is idempotent, nothing counts twice.
// - A claimed entry is checked exactly as the gateway checks it (a bad one is dead-lettered);
//   a finished job is never reopened; the job record is written and the ledger read before any
//   actor exists, then the actors replay the ledger, so a job a dead coordinator left behind
//   resumes where it stopped.
// - A result is recorded in the ledger (HSETNX) before its job's actor sees it; a failed run is
//   not a fact (it is retried under the same id), so it goes to the actor unrecorded.
// - What the actors say (tasks, withdrawals, facts, events, pooled proofs, finished jobs) is
//   carried out in the order they said it: a fact is in Redis before the tasks that follow it go
//   out. A finished job's result is written, then its stream entry acknowledged.
// - The state here is only what Redis and the actors cannot give: each job's stream entry and
//   actor, and the queues of work not yet carried out. What is open, done or reported is the
//   actors' to know.
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
#include <map>
#include <memory>
#include <optional>
#include <variant>

namespace proofmesh::coordinator {

struct job_runs_params {
  job_ledger& ledger;
  transport::job_queue& queue;
  transport::redis_client& redis; // dead letters
  std::string consumer;
  const services::service_log& log;
  services::metrics_registry& metrics;
};

/// What the jobs' work asks of the workers: tasks to send, and tasks to cancel.
struct job_work {
  std::vector<transport::task_msg> send;
  std::vector<std::string> withdraw;
};

class job_runs {
public:
  job_runs(caf::actor_system& sys, const job_runs_params& params);
  ~job_runs();

  /// A claimed entry of the jobs stream: started at the next flush().
  void claim(transport::job_entry e) { claimed_.push_back(std::move(e)); }
  /// Whether the task belongs to a job running here.
  bool owns(const std::string& task_id) const;
  /// A result of one of its tasks: recorded, then given to its job, at the next flush().
  void take(transport::task_result_msg result) { inbox_.push_back(std::move(result)); }
  /// Starts the claimed jobs, records the results taken, and carries out what the actors said,
  /// in that order; returns the work for the workers. Stops at the first write Redis refuses
  /// (waiting() then says why) and keeps the rest for the next call.
  job_work flush();
  /// Why Redis work waits, since the last flush(); null when nothing does.
  const std::optional<std::string>& waiting() const { return waiting_; }
  /// Readable when the actors have written to the loop's mailbox (poll it with the sockets).
  int wake_fd() const { return waker_->fd(); }
  /// A cancel asked for: the job's outcome so far becomes its result (written at the next
  /// flush()); returns its open tasks, to withdraw.
  std::vector<std::string> cancel(const std::string& job_id);

  std::vector<std::string> running_ids() const;
  /// The stream entries of the jobs running here (to keep them from being reclaimed).
  std::vector<std::string> entries() const;
  size_t size() const { return jobs_.size(); }

private:
  struct run {
    std::string entry;
    job_actor actor;
    bool ending = false; // its outcome is on its way to Redis: no more work goes out
  };
  using action = std::variant<std::vector<transport::task_msg>, std::vector<std::string>,
                              problem_fact, job_event, pooled_proof, job_outcome>;

  void start(const transport::job_entry& e);
  void dead_letter(const transport::job_entry& e, const std::string& reason);
  void deliver(const transport::task_result_msg& result);
  void take_mailbox();
  void carry_out(action& a, job_work& out);
  void finish(const job_outcome& outcome);
  const run* running(const std::string& job_id) const;

  std::shared_ptr<loop_waker> waker_ = std::make_shared<loop_waker>(); // shared with the actors
  caf::scoped_actor self_;
  job_runs_params p_;
  std::map<std::string, run> jobs_;
  std::deque<transport::job_entry> claimed_;
  std::deque<transport::task_result_msg> inbox_;
  std::deque<action> outbox_;
  std::optional<std::string> waiting_;
  services::metric& completed_;
  services::metric& cancelled_;
  services::metric& dead_;
  services::metric& results_;
};

} // namespace proofmesh::coordinator
