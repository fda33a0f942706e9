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

std::string role_list(const worker_config& c) {
  std::string out;
  for (pt::role r : c.roles) {
    if (!out.empty()) out += ',';
    out += pt::role_name(r);
  }
  return out;
}

std::string role_label(pt::role r) { return std::string("role=\"") + pt::role_name(r) + '"'; }

services::metric& tasks(services::metrics_registry& m, pt::role r, const char* status) {
  return m.counter("proofmesh_worker_tasks_total", "tasks answered",
                   role_label(r) + ",status=\"" + status + '"');
}

} // namespace

worker_frame::worker_frame(const worker_config& c, const std::string& serving)
    : log_({{"service", "worker"}, {"role", role_list(c)}, {"worker", c.worker_id}}),
      dropped_(metrics_.gauge("proofmesh_worker_wire_dropped", "received messages dropped")),
      budget_(static_cast<uint32_t>(c.slots), c.roles.size()),
      slots_(static_cast<uint32_t>(c.slots)) {
  for (size_t i = 0; i < c.roles.size(); ++i) {
    const pt::role r = c.roles[i];
    const std::string label = role_label(r);
    role_metrics_.push_back(
        {.ok = &tasks(metrics_, r, "ok"),
         .unparseable = &tasks(metrics_, r, "unparseable"),
         .truncated = &tasks(metrics_, r, "truncated"),
         .failed = &tasks(metrics_, r, "failed"),
         .in_flight = &metrics_.gauge("proofmesh_worker_tasks_in_flight", "tasks running now",
                                      label),
         .tokens = &metrics_.counter("proofmesh_worker_completion_tokens_total",
                                     "tokens generated", label),
         .task_ms = &metrics_.counter("proofmesh_worker_task_milliseconds_total",
                                      "time from submit to result, summed (divide by tasks)",
                                      label),
         .task_seconds = &metrics_.latency("proofmesh_worker_task_seconds",
                                           "time from taking a task to its result", label)});
    // Heartbeats tell each coordinator the role's current share (refresh_capacity).
    links_.emplace_back(context_, pt::worker_link_params{
                                      .endpoint = c.coordinators[i],
                                      .worker_id = c.worker_id,
                                      .served = r,
                                      .heartbeat_interval = c.heartbeat,
                                      .capacity = 0});
  }
  // Served once every family is registered: a scrape in between would see a page without the
  // per-role series (the metrics_names test caught one on a loaded machine).
  if (c.metrics_port > 0) {
    endpoint_ = std::make_unique<services::metrics_server>(metrics_, c.metrics_port);
  }
  const std::vector<uint32_t> grants = budget_.start();
  for (size_t i = 0; i < links_.size(); ++i) {
    links_[i].set_capacity(grants[i]);
    links_[i].grant(grants[i]);
    log_.line("info", "serving " + std::string(pt::role_name(c.roles[i])) + " tasks from " +
                          c.coordinators[i] + serving);
  }
}

frame_inbox worker_frame::poll(std::chrono::milliseconds timeout) {
  frame_inbox out;
  for (size_t i = 0; i < links_.size(); ++i) {
    // The first link waits; the others are read as they are, so no role waits behind another.
    pt::worker_inbox in = links_[i].poll(i == 0 ? timeout : std::chrono::milliseconds(0));
    for (pt::task_msg& t : in.tasks) {
      if (!budget_.can_take(i)) { // beyond our credit: not ours to hold
        links_[i].send_result({.task_id = t.task_id,
                               .status = pt::task_status::task_status_handed_back,
                               .error = "the worker is full (" + std::to_string(slots_) +
                                        " slots)"});
        continue;
      }
      if (uint32_t grant = budget_.on_task(i); grant > 0 && !draining_) {
        links_[i].grant(grant);
      }
      out.tasks.push_back({.link = i, .task = std::move(t)});
    }
    for (std::string& id : in.cancels) {
      out.cancels.push_back(std::move(id));
    }
  }
  refresh_links();
  return out;
}

void worker_frame::start_draining() {
  draining_ = true;
  refresh_links();
}

void worker_frame::refresh_links() {
  uint64_t dropped = 0;
  for (size_t i = 0; i < links_.size(); ++i) {
    links_[i].set_in_flight(budget_.held(i));
    links_[i].set_capacity(draining_ ? 0 : budget_.credit(i) + budget_.held(i));
    role_metrics_[i].in_flight->set(budget_.held(i));
    dropped += links_[i].drops().total();
  }
  dropped_.set(static_cast<int64_t>(dropped));
}

void worker_frame::free_slot(size_t link) {
  const std::vector<uint32_t> grants = budget_.on_free(link);
  refresh_links();
  if (draining_) {
    return;
  }
  for (size_t i = 0; i < links_.size(); ++i) {
    if (grants[i] > 0) links_[i].grant(grants[i]);
  }
}

void worker_frame::report(size_t link, const pt::task_result_msg& result) {
  const role_metrics& m = role_metrics_[link];
  switch (result.status) {
    case pt::task_status::task_status_ok: m.ok->add(); break;
    case pt::task_status::task_status_unparseable: m.unparseable->add(); break;
    case pt::task_status::task_status_truncated: m.truncated->add(); break;
    default:
      m.failed->add();
      log_.line("warn", "task " + result.task_id + " failed: " + result.error);
  }
  m.tokens->add(result.completion_tokens);
  m.task_ms->add(result.elapsed_ms);
  m.task_seconds->observe(static_cast<double>(result.elapsed_ms) / 1000.0);
  links_[link].send_result(result);
  free_slot(link);
}

void worker_frame::refuse(size_t link, const pt::task_msg& task, const std::string& why,
                          pt::task_status status) {
  links_[link].send_result({.task_id = task.task_id, .status = status, .error = why});
  free_slot(link);
}

void worker_frame::release(size_t link) { free_slot(link); }

void worker_frame::send_progress(size_t link, const pt::progress_msg& progress) {
  links_[link].send_progress(progress);
}

} // namespace proofmesh::worker
