// What every role service has, whatever runs its model (our engine, or an OpenAI-compatible
// server): its log, its metrics and their endpoint, its templates, and its link to the
// coordinator with the credit rule. Rules of the road:
// - report() is the one way a finished task leaves: counted by status, its tokens and time
//   recorded, sent, and (unless draining) its slot granted back as credit.
// - hand_back() answers a task the worker will not run: failed (the task's fault, or the
//   backend's) or handed back (shutting down, full: no fault of the task's, no attempt spent).
#pragma once

#include "actors/roles/role_templates.hpp"
#include "actors/transport/worker_link.hpp"
#include "services/common/metrics.hpp"
#include "services/common/metrics_server.hpp"
#include "services/common/service_log.hpp"
#include "services/worker/worker_config.hpp"

#include <memory>

namespace proofmesh::worker {

/// The templates the config names, or our built-in ones.
roles::role_templates load_templates(const worker_config& c);

class worker_frame {
public:
  /// `serving` ends the start-up log line ("serving generator tasks from ... <serving>").
  worker_frame(const worker_config& c, const std::string& serving);

  transport::worker_link& link() { return link_; }
  const services::service_log& log() const { return log_; }

  void report(const transport::task_result_msg& result, bool draining);
  void hand_back(const transport::task_msg& task, const std::string& why,
                 transport::task_status status = transport::task_status::task_status_failed);
  /// Tasks running now: the gauge, and what heartbeats say.
  void set_in_flight(size_t n);

private:
  services::service_log log_;
  services::metrics_registry metrics_;
  services::metric& ok_;
  services::metric& unparseable_;
  services::metric& truncated_;
  services::metric& failed_;
  services::metric& in_flight_;
  services::metric& tokens_;
  services::metric& task_ms_;
  services::metric& dropped_;
  services::histogram& task_seconds_;
  std::unique_ptr<services::metrics_server> endpoint_;
  zmq::context_t context_;
  transport::worker_link link_;
};

} // namespace proofmesh::worker
