// What every role service has, whatever runs its model (our engine, or an OpenAI-compatible
// server): its log, its metrics and their endpoint, its templates, and one link to the
// coordinator per role it serves, with one slot budget shared by them. Rules of the road:
// - Every task poll() returns holds a slot from the shared budget (slot_budget.hpp) until it
//   leaves through report() (it ran), refuse() (it will not run) or release() (a duplicate
//   delivery): the one place where a slot becomes credit again, for whichever role the budget
//   gives it to. A task beyond the budget is handed back inside poll(). While draining, no
//   credit is granted.
// - What each link's heartbeats say (tasks in flight, capacity) and the in-flight gauges are
//   the budget's own counts, kept current by every poll and every freed slot.
// - Metrics are per role (label role="..."), as dedicated workers' were.
#pragma once

#include "actors/roles/role_templates.hpp"
#include "actors/transport/worker_link.hpp"
#include "services/common/metrics.hpp"
#include "services/common/metrics_server.hpp"
#include "services/common/service_log.hpp"
#include "services/worker/slot_budget.hpp"
#include "services/worker/worker_config.hpp"

#include <deque>
#include <memory>

namespace proofmesh::worker {

/// The templates the config names, or our built-in ones.
roles::role_templates load_templates(const worker_config& c);

/// A task and the role link it came on (an index into the config's roles).
struct role_task {
  size_t link = 0;
  transport::task_msg task;
};

struct frame_inbox {
  std::vector<role_task> tasks;
  std::vector<std::string> cancels; // task ids are unique across roles
};

class worker_frame {
public:
  /// `serving` ends the start-up log line ("serving generator tasks from ... <serving>").
  worker_frame(const worker_config& c, const std::string& serving);

  const services::service_log& log() const { return log_; }

  /// Waits up to `timeout` for messages on any role's link; every task returned holds a slot.
  /// One that arrives beyond the budget is handed back ("full") and not returned.
  frame_inbox poll(std::chrono::milliseconds timeout);
  /// From now on no slot becomes credit again, and heartbeats advertise no capacity (so no
  /// coordinator resets this worker's credit).
  void start_draining();

  /// A task ran: counted by status, its tokens and time recorded, sent, and its slot freed.
  void report(size_t link, const transport::task_result_msg& result);
  /// A task will not run: failed (its fault, or the backend's) or handed back (shutting down,
  /// full: no fault of the task's, no attempt spent). Its slot is freed.
  void refuse(size_t link, const transport::task_msg& task, const std::string& why,
              transport::task_status status = transport::task_status::task_status_failed);
  /// A duplicate delivery of a task already held: its slot is freed, nothing is sent.
  void release(size_t link);
  void send_progress(size_t link, const transport::progress_msg& progress);

private:
  struct role_metrics {
    services::metric* ok;
    services::metric* unparseable;
    services::metric* truncated;
    services::metric* failed;
    services::metric* in_flight;
    services::metric* tokens;
    services::metric* task_ms;
    services::histogram* task_seconds;
  };
  void free_slot(size_t link);
  // Heartbeats advertise each role's tasks held and current share (credit promised plus tasks
  // held; 0 while draining): a coordinator resets an idle worker's credit to that share, so it
  // must follow every change of the budget, never lag behind one.
  void refresh_links();

  services::service_log log_;
  services::metrics_registry metrics_;
  std::vector<role_metrics> role_metrics_; // per link
  services::metric& dropped_;
  std::unique_ptr<services::metrics_server> endpoint_;
  zmq::context_t context_;
  std::deque<transport::worker_link> links_; // per role; deque: a link never moves
  slot_budget budget_;
  uint32_t slots_;
  bool draining_ = false;
};

} // namespace proofmesh::worker
