#include "services/coordinator/coordinator_loop.hpp"

#include "actors/transport/redis_keys.hpp"
#include "actors/transport/zmq_wait.hpp"
#include "services/coordinator/coordinator_types.hpp"

#include <utility>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
using namespace std::chrono_literals;

namespace {

// Few attempts, short waits: an outage is ridden out by the loop's own backoff, with the sockets
// served meanwhile, not inside one command.
pt::redis_client_params redis_params(const coordinator_config& c) {
  return {.host = c.redis_host, .port = c.redis_port, .password = c.redis_password,
          .command_timeout = 5s, .max_attempts = 2};
}

pt::role_router router(zmq::context_t& context, const std::string& endpoint, pt::role served,
                       const coordinator_config& c) {
  return pt::role_router(context, {.endpoint = endpoint, .served = served,
                                   .dispatch = {.heartbeat_timeout = c.worker_timeout}});
}

// Work sharing: an idle scheduler thread waits on a condition variable and wakes the moment a
// message arrives. CAF's default (work stealing) lets idle threads sleep in polls of up to
// 10 ms, which each actor hop of a short task paid in full.
caf::actor_system_config& configured(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return add_coordinator_types(cfg);
}

} // namespace

coordinator_loop::coordinator_loop(const coordinator_config& c)
    : config_(c), queue_redis_(redis_params(c)), ledger_redis_(redis_params(c)),
      queue_(queue_redis_, {.consumer = c.consumer, .min_idle = c.min_idle}),
      completion_queue_(queue_redis_, {.stream = keys::completions, .consumer = c.consumer,
                                       .min_idle = c.min_idle}),
      completions_(queue_redis_, completion_queue_), ledger_(ledger_redis_),
      routers_{router(context_, c.generator_endpoint, pt::role::role_generator, c),
               router(context_, c.verifier_endpoint, pt::role::role_verifier, c),
               router(context_, c.meta_verifier_endpoint, pt::role::role_meta_verifier, c)},
      log_({{"service", "coordinator"}, {"consumer", c.consumer}}),
      system_(configured(caf_config_)),
      jobs_(system_, {.ledger = ledger_, .queue = queue_, .redis = queue_redis_,
                      .consumer = c.consumer, .log = log_, .metrics = metrics_}) {
  gauges_.jobs_running = &metrics_.gauge("proofmesh_coordinator_jobs_running",
                                         "jobs in progress here");
  gauges_.queue_depth = &metrics_.gauge("proofmesh_coordinator_queue_depth",
                                        "jobs waiting in the stream or pending");
  const char* role_label[3] = {"role=\"generator\"", "role=\"verifier\"",
                               "role=\"meta_verifier\""};
  for (size_t r = 0; r < 3; ++r) {
    gauges_.queued[r] = &metrics_.gauge("proofmesh_coordinator_tasks_queued",
                                        "tasks waiting for credit", role_label[r]);
    gauges_.in_flight[r] = &metrics_.gauge("proofmesh_coordinator_tasks_in_flight",
                                           "tasks on workers", role_label[r]);
    gauges_.workers[r] = &metrics_.gauge("proofmesh_coordinator_workers", "live workers",
                                         role_label[r]);
    gauges_.dropped[r] = &metrics_.gauge("proofmesh_coordinator_wire_dropped",
                                         "received messages dropped", role_label[r]);
  }
  if (c.metrics_port > 0) {
    metrics_endpoint_ =
        std::make_unique<services::metrics_server>(metrics_, c.metrics_port, &health_);
  }
  last_depth_ = last_reclaim_ = last_read_ = clock::now() - 10s;
}

void coordinator_loop::run(const std::atomic<bool>& stop_flag) {
  log_.line("info", "coordinating");
  while (!stop_flag.load()) {
    take_new_work();
    collect_results();
    dispatch();
  }
}

void coordinator_loop::redis_answered(const std::optional<std::string>& error) {
  if (!error) {
    if (redis_backoff_.count() > 0) health_.ok();
    redis_backoff_ = 0ms;
    return;
  }
  redis_backoff_ = std::clamp(redis_backoff_ * 2, 100ms, std::chrono::milliseconds(2000));
  redis_due_ = clock::now() + redis_backoff_;
  health_.waiting("redis", *error);
}

// Redis round trips on their schedules: the streams every turn when idle (a blocking read, the
// loop's wait) and every 5 ms when busy; the depth gauge and cancellations once a second;
// reclaiming (XAUTOCLAIM) twice per min_idle, at most once a second, since an entry must sit
// idle that long before it can be reclaimed anyway.
void coordinator_loop::take_new_work() {
  update_gauges();
  if (clock::now() < redis_due_) return;
  try {
    const auto now = clock::now();
    if (now - last_depth_ > 1s) {
      gauges_.queue_depth->set(queue_.depth());
      check_cancellations();
      last_depth_ = now;
    }
    if (now - last_reclaim_ >= std::min<std::chrono::milliseconds>(config_.min_idle / 2, 1s)) {
      reclaim();
      last_reclaim_ = now;
    }
    if (idle() || now - last_read_ >= 5ms) read_streams();
  } catch (const pt::redis_unavailable& e) {
    redis_answered(e.what());
  }
}

void coordinator_loop::read_streams() {
  pt::job_queue* const streams[2] = {&queue_, &completion_queue_};
  const bool wait = idle() && redis_backoff_.count() == 0;
  waited_on_redis_ = wait;
  std::vector<std::vector<pt::job_entry>> fresh =
      pt::job_queue::read_all(streams, wait ? 50ms : 0ms);
  last_read_ = clock::now();
  for (pt::job_entry& e : fresh[0]) jobs_.claim(std::move(e));
  for (const pt::job_entry& e : fresh[1]) {
    std::array<size_t, 3> live{};
    for (size_t r = 0; r < 3; ++r) live[r] = routers_[r].dispatcher().num_workers();
    send(completions_.start(e, live));
  }
}

void coordinator_loop::check_cancellations() {
  for (const std::string& id : ledger_.cancel_requested(jobs_.running_ids())) {
    withdraw(jobs_.cancel(id));
  }
  // Completions whose client went away (the gateway sets completion:<id>:cancel, which expires
  // on its own): stop their tasks.
  std::vector<std::string> live = completions_.running_ids();
  if (live.empty()) return;
  std::vector<std::string> args = {"MGET"};
  for (const std::string& id : live) args.push_back(keys::completion_cancel(id));
  pt::redis_reply gone = queue_redis_.command(args);
  for (size_t i = 0; i < gone.elements.size() && i < live.size(); ++i) {
    if (!gone.elements[i].is_nil()) withdraw(completions_.cancel(live[i]));
  }
}

void coordinator_loop::reclaim() {
  // Ours first: a long job or completion is not a dead coordinator's, and must not look it.
  queue_.keep(jobs_.entries());
  completion_queue_.keep(completions_.entries());
  for (pt::job_entry& e : queue_.reclaim()) jobs_.claim(std::move(e));
  for (const pt::job_entry& e : completion_queue_.reclaim()) completions_.abandon(e);
}

void coordinator_loop::collect_results() {
  // A turn that began idle waited in its blocking stream read, and what that read brought must
  // go out at once, not after a socket wait for results of tasks not sent yet. Otherwise wait
  // on the sockets, and on the actors' mailbox unless Redis work waits anyway.
  const bool waited = std::exchange(waited_on_redis_, false);
  if (!waited && (!idle() || redis_backoff_.count() > 0)) {
    zmq::socket_t* const sockets[3] = {&routers_[0].socket(), &routers_[1].socket(),
                                       &routers_[2].socket()};
    const bool redis_waits = clock::now() < redis_due_;
    pt::wait_any_readable(sockets, 5ms, redis_waits ? -1 : jobs_.wake_fd());
  }
  for (pt::role_router& router : routers_) {
    pt::router_events turn = router.poll(0ms);
    for (const pt::progress_msg& p : turn.progress) completions_.on_progress(p);
    for (pt::routed_result& r : turn.results) take_result(r.result);
  }
  for (std::vector<pt::task_result_msg> now; !refused_.empty(); now.clear()) {
    now.swap(refused_);
    for (const pt::task_result_msg& r : now) take_result(r);
  }
}

void coordinator_loop::take_result(const pt::task_result_msg& result) {
  if (completions_.owns(result.task_id)) {
    completion_runs::step next = completions_.on_result(result);
    if (next.rerun) send({std::move(*next.rerun)});
    withdraw(next.withdraw);
  } else if (jobs_.owns(result.task_id)) {
    jobs_.take(result);
  } // else: a job that finished, or that another coordinator runs
}

// What the results unlocked: written to Redis in order (facts before the work that follows
// them), then sent to the workers now, not at the next turn.
void coordinator_loop::dispatch() {
  if (clock::now() >= redis_due_) {
    job_work work = jobs_.flush();
    std::optional<std::string> error = jobs_.waiting();
    try {
      completions_.flush();
    } catch (const pt::redis_unavailable& e) {
      error = e.what();
    }
    redis_answered(error);
    send(std::move(work.send));
    withdraw(work.withdraw);
  }
  for (pt::role_router& router : routers_) router.flush();
}

void coordinator_loop::send(std::vector<pt::task_msg> tasks) {
  for (pt::task_msg& t : tasks) {
    const std::string id = t.task_id;
    if (!routers_[static_cast<size_t>(t.task_role())].submit(std::move(t))) {
      refused_.push_back({.task_id = id, .status = pt::task_status::task_status_failed,
                          .error = "the coordinator's queue is full"});
    }
  }
}

void coordinator_loop::withdraw(const std::vector<std::string>& tasks) {
  for (const std::string& task : tasks) {
    for (pt::role_router& router : routers_) router.cancel(task);
  }
}

void coordinator_loop::update_gauges() {
  gauges_.jobs_running->set(static_cast<int64_t>(jobs_.size()));
  for (size_t r = 0; r < 3; ++r) {
    const pt::credit_dispatcher& d = routers_[r].dispatcher();
    gauges_.queued[r]->set(static_cast<int64_t>(d.num_queued()));
    gauges_.in_flight[r]->set(static_cast<int64_t>(d.num_in_flight()));
    gauges_.workers[r]->set(static_cast<int64_t>(d.num_workers()));
    gauges_.dropped[r]->set(static_cast<int64_t>(routers_[r].drops().total()));
  }
}

} // namespace proofmesh::coordinator
