#include "services/worker/worker_frame.hpp"

#include "services/worker/default_templates.hpp"

namespace proofmesh::worker {

namespace pt = proofmesh::transport;

roles::role_templates load_templates(const worker_config& c) {
  return c.templates.empty()
             ? roles::role_templates::from_json_text(default_templates_json,
                                                     "the built-in templates")
             : roles::role_templates::from_file(c.templates);
}

namespace {

services::metric& tasks(services::metrics_registry& m, const char* status) {
  std::string label = "status=\"";
  label += status;
  label += '"';
  return m.counter("proofmesh_worker_tasks_total", "tasks answered", label);
}

} // namespace

worker_frame::worker_frame(const worker_config& c, const std::string& serving)
    : log_({{"service", "worker"}, {"role", pt::role_name(c.served)}, {"worker", c.worker_id}}),
      ok_(tasks(metrics_, "ok")),
      unparseable_(tasks(metrics_, "unparseable")),
      truncated_(tasks(metrics_, "truncated")),
      failed_(tasks(metrics_, "failed")),
      in_flight_(metrics_.gauge("proofmesh_worker_tasks_in_flight", "tasks running now")),
      tokens_(metrics_.counter("proofmesh_worker_completion_tokens_total", "tokens generated")),
      task_ms_(metrics_.counter("proofmesh_worker_task_milliseconds_total",
                                "time from submit to result, summed (divide by tasks)")),
      dropped_(metrics_.gauge("proofmesh_worker_wire_dropped", "received messages dropped")),
      task_seconds_(metrics_.latency("proofmesh_worker_task_seconds",
                                     "time from taking a task to its result")),
      endpoint_(c.metrics_port > 0
                    ? std::make_unique<services::metrics_server>(metrics_, c.metrics_port)
                    : nullptr),
      link_(context_, {.endpoint = c.coordinator, .worker_id = c.worker_id, .served = c.served,
                       .heartbeat_interval = c.heartbeat,
                       .capacity = static_cast<uint32_t>(c.slots)}) {
  link_.grant(static_cast<uint32_t>(c.slots));
  log_.line("info", "serving " + std::string(pt::role_name(c.served)) + " tasks from " +
                        c.coordinator + serving);
}

void worker_frame::report(const pt::task_result_msg& result, bool draining) {
  switch (result.status) {
    case pt::task_status::task_status_ok: ok_.add(); break;
    case pt::task_status::task_status_unparseable: unparseable_.add(); break;
    case pt::task_status::task_status_truncated: truncated_.add(); break;
    default:
      failed_.add();
      log_.line("warn", "task " + result.task_id + " failed: " + result.error);
  }
  tokens_.add(result.completion_tokens);
  task_ms_.add(result.elapsed_ms);
  task_seconds_.observe(static_cast<double>(result.elapsed_ms) / 1000.0);
  link_.send_result(result);
  if (!draining) link_.grant(1);
}

void worker_frame::hand_back(const pt::task_msg& task, const std::string& why,
                             pt::task_status status) {
  link_.send_result({.task_id = task.task_id, .status = status, .error = why});
}

void worker_frame::set_in_flight(size_t n) {
  in_flight_.set(static_cast<int64_t>(n));
  dropped_.set(static_cast<int64_t>(link_.drops().total()));
  link_.set_in_flight(static_cast<uint32_t>(n));
}

} // namespace proofmesh::worker
