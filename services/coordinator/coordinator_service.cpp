#include "services/coordinator/coordinator_service.hpp"

#include "actors/common/error.hpp"
#include "actors/transport/job_queue.hpp"
#include "actors/transport/role_router.hpp"
#include "actors/transport/zmq_wait.hpp"
#include "services/common/metrics_server.hpp"
#include "services/common/service_log.hpp"
#include "services/common/service_main.hpp"
#include "services/coordinator/completion_runs.hpp"
#include "services/coordinator/job_ledger.hpp"
#include "services/coordinator/job_runs.hpp"
#include "actors/transport/redis_keys.hpp"

#include <CLI/CLI.hpp>
#include <array>
#include <map>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;

coordinator_config parse_coordinator_config(int argc, char** argv, bool& help,
                                            std::string& help_text) {
  coordinator_config c;
  int64_t min_idle_ms = 60000, worker_timeout_ms = 10000;
  CLI::App app{"proofmesh-coordinator: runs proof jobs across the role services"};
  app.set_config("--config", "", "a TOML or INI file with these options; flags override it");
  app.add_option("--redis-host", c.redis_host);
  app.add_option("--redis-port", c.redis_port);
  // The environment keeps the password off the command line, which /proc shows everyone.
  app.add_option("--redis-password", c.redis_password, "or PROOFMESH_REDIS_PASSWORD")
      ->envname("PROOFMESH_REDIS_PASSWORD");
  app.add_option("--generator-endpoint", c.generator_endpoint, "socket generators connect to");
  app.add_option("--verifier-endpoint", c.verifier_endpoint, "socket verifiers connect to");
  app.add_option("--meta-verifier-endpoint", c.meta_verifier_endpoint,
                 "socket meta-verifiers connect to");
  app.add_option("--consumer", c.consumer, "this coordinator's name in the consumer group");
  app.add_option("--min-idle-ms", min_idle_ms, "reclaim jobs pending this long (100..86400000)");
  app.add_option("--metrics-port", c.metrics_port, "serve /metrics and /healthz (0: off)");
  app.add_option("--worker-timeout-ms", worker_timeout_ms,
                 "a worker silent this long is dropped (100..600000)");
  help = !services::parse_flags(app, argc, argv, help_text);
  if (help) {
    return c;
  }
  if (c.metrics_port < 0 || c.metrics_port > 65535) {
    throw input_error("--metrics-port must be in [0, 65535]");
  }
  if (c.redis_port < 1 || c.redis_port > 65535) {
    throw input_error("--redis-port must be in [1, 65535]");
  }
  if (min_idle_ms < 100 || min_idle_ms > 86400000) {
    throw input_error("--min-idle-ms must be in [100, 86400000]");
  }
  if (worker_timeout_ms < 100 || worker_timeout_ms > 600000) {
    throw input_error("--worker-timeout-ms must be in [100, 600000]");
  }
  c.min_idle = std::chrono::milliseconds(min_idle_ms);
  c.worker_timeout = std::chrono::milliseconds(worker_timeout_ms);
  if (c.consumer.empty()) {
    c.consumer = services::instance_id("coordinator");
  }
  return c;
}

int run_coordinator(const coordinator_config& c, const std::atomic<bool>& stop_flag) {
  pt::redis_client queue_redis({.host = c.redis_host, .port = c.redis_port,
                                .password = c.redis_password});
  pt::redis_client ledger_redis({.host = c.redis_host, .port = c.redis_port,
                                 .password = c.redis_password});
  pt::job_queue queue(queue_redis, {.consumer = c.consumer, .min_idle = c.min_idle});
  pt::job_queue completion_queue(queue_redis, {.stream = keys::completions, .consumer = c.consumer,
                                               .min_idle = c.min_idle});
  completion_runs completions(queue_redis, completion_queue);
  job_ledger ledger(ledger_redis);
  zmq::context_t context;
  const pt::credit_dispatcher_config dispatch{.heartbeat_timeout = c.worker_timeout};
  std::array<pt::role_router, 3> routers = {
      pt::role_router(context, {.endpoint = c.generator_endpoint,
                                .served = pt::role::role_generator, .dispatch = dispatch}),
      pt::role_router(context, {.endpoint = c.verifier_endpoint,
                                .served = pt::role::role_verifier, .dispatch = dispatch}),
      pt::role_router(context, {.endpoint = c.meta_verifier_endpoint,
                                .served = pt::role::role_meta_verifier, .dispatch = dispatch})};
  services::metrics_registry metrics;
  auto& jobs_running = metrics.gauge("proofmesh_coordinator_jobs_running", "jobs in progress here");
  auto& queue_depth = metrics.gauge("proofmesh_coordinator_queue_depth",
                                    "jobs waiting in the stream or pending");
  const char* role_label[3] = {"role=\"generator\"", "role=\"verifier\"",
                               "role=\"meta_verifier\""};
  std::array<services::metric*, 3> queued{}, in_flight{}, workers{}, dropped{};
  for (size_t r = 0; r < 3; ++r) {
    queued[r] = &metrics.gauge("proofmesh_coordinator_tasks_queued", "tasks waiting for credit",
                               role_label[r]);
    in_flight[r] = &metrics.gauge("proofmesh_coordinator_tasks_in_flight", "tasks on workers",
                                  role_label[r]);
    workers[r] = &metrics.gauge("proofmesh_coordinator_workers", "live workers", role_label[r]);
    dropped[r] = &metrics.gauge("proofmesh_coordinator_wire_dropped",
                                "received messages dropped", role_label[r]);
  }
  const services::service_log log({{"service", "coordinator"}, {"consumer", c.consumer}});
  caf::actor_system_config cfg;
  // Work sharing: an idle scheduler thread waits on a condition variable and wakes the moment a
  // message arrives. CAF's default (work stealing) lets idle threads sleep in polls of up to
  // 10 ms, which each actor hop of a short task paid in full.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{add_coordinator_types(cfg)};
  job_runs jobs(sys, {.ledger = ledger, .queue = queue, .redis = queue_redis,
                      .consumer = c.consumer, .log = log, .metrics = metrics});
  std::unique_ptr<services::metrics_server> metrics_endpoint;
  if (c.metrics_port > 0) {
    metrics_endpoint = std::make_unique<services::metrics_server>(metrics, c.metrics_port);
  }
  // Redis round trips that need not run every turn: the queue depth gauge once a second, and
  // reclaiming (XAUTOCLAIM) twice per min_idle, at most once a second, since an entry must sit
  // idle that long before it can be reclaimed anyway.
  const auto reclaim_every = std::min<std::chrono::milliseconds>(c.min_idle / 2,
                                                                 std::chrono::seconds(1));
  auto last_depth = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  auto last_reclaim = last_depth;
  auto last_read = last_depth;
  log.line("info", "coordinating");

  // Tasks a router refused (its queue is full): failed at once, so their owners retry them
  // after a backoff instead of waiting for them forever.
  std::vector<pt::task_result_msg> refused;
  auto dispatch_all = [&](std::vector<pt::task_msg> tasks) {
    for (pt::task_msg& t : tasks) {
      const std::string id = t.task_id;
      if (!routers[static_cast<size_t>(t.task_role())].submit(std::move(t))) {
        refused.push_back({.task_id = id, .status = pt::task_status::task_status_failed,
                           .error = "the coordinator's queue is full"});
      }
    }
  };
  auto withdraw = [&](const std::vector<std::string>& tasks) {
    for (const std::string& task : tasks) {
      for (pt::role_router& router : routers) router.cancel(task);
    }
  };

  while (!stop_flag.load()) {
    jobs_running.set(static_cast<int64_t>(jobs.size()));
    for (size_t r = 0; r < 3; ++r) {
      queued[r]->set(static_cast<int64_t>(routers[r].dispatcher().num_queued()));
      in_flight[r]->set(static_cast<int64_t>(routers[r].dispatcher().num_in_flight()));
      workers[r]->set(static_cast<int64_t>(routers[r].dispatcher().num_workers()));
      dropped[r]->set(static_cast<int64_t>(routers[r].drops().total()));
    }
    if (std::chrono::steady_clock::now() - last_depth > std::chrono::seconds(1)) {
      // Redis round trips that can wait a second: the depth gauge, and cancellations.
      queue_depth.set(queue.depth());
      for (const std::string& id : ledger.cancel_requested(jobs.running_ids())) {
        withdraw(jobs.cancel(id));
      }
      // Completions whose client went away (the gateway sets completion:<id>:cancel, which
      // expires on its own): stop their tasks.
      std::vector<std::string> live = completions.running_ids();
      if (!live.empty()) {
        std::vector<std::string> args = {"MGET"};
        for (const std::string& id : live) args.push_back(keys::completion_cancel(id));
        pt::redis_reply gone = queue_redis.command(args);
        for (size_t i = 0; i < gone.elements.size() && i < live.size(); ++i) {
          if (!gone.elements[i].is_nil()) withdraw(completions.cancel(live[i]));
        }
      }
      last_depth = std::chrono::steady_clock::now();
    }
    if (std::chrono::steady_clock::now() - last_reclaim >= reclaim_every) {
      // Ours first: a long job or completion is not a dead coordinator's, and must not look it.
      queue.keep(jobs.entries());
      completion_queue.keep(completions.entries());
      for (const pt::job_entry& e : queue.reclaim()) jobs.start(e);
      for (const pt::job_entry& e : completion_queue.reclaim()) completions.abandon(e);
      last_reclaim = std::chrono::steady_clock::now();
    }
    // Idle, the loop waits on Redis for work. Busy, it waits on the workers' sockets (results
    // must not sit behind a Redis read, whose timeout runs on Redis's 100 ms clock) and looks
    // for new work without blocking, every few milliseconds.
    pt::job_queue* const streams[2] = {&queue, &completion_queue};
    auto take = [&](std::vector<std::vector<pt::job_entry>> fresh) {
      for (const pt::job_entry& e : fresh[0]) jobs.start(e);
      for (const pt::job_entry& e : fresh[1]) {
        std::array<size_t, 3> live{};
        for (size_t r = 0; r < 3; ++r) live[r] = routers[r].dispatcher().num_workers();
        dispatch_all(completions.start(e, live));
      }
      last_read = std::chrono::steady_clock::now();
    };
    if (jobs.size() == 0 && completions.size() == 0) {
      take(pt::job_queue::read_all(streams, std::chrono::milliseconds(50)));
    } else {
      if (std::chrono::steady_clock::now() - last_read >= std::chrono::milliseconds(5)) {
        take(pt::job_queue::read_all(streams, std::chrono::milliseconds(0)));
      }
      zmq::socket_t* const sockets[3] = {&routers[0].socket(), &routers[1].socket(),
                                         &routers[2].socket()};
      pt::wait_any_readable(sockets, std::chrono::milliseconds(5), jobs.wake_fd());
    }
    auto take_result = [&](const pt::task_result_msg& result) {
      if (completions.owns(result.task_id)) {
        completion_runs::step next = completions.on_result(result);
        if (next.rerun) dispatch_all({std::move(*next.rerun)});
        withdraw(next.withdraw);
      } else if (jobs.owns(result.task_id)) {
        jobs.record(result);
      } // else: a job that finished, or that another coordinator runs
    };
    for (pt::role_router& router : routers) {
      pt::router_events turn = router.poll(std::chrono::milliseconds(0));
      for (const pt::progress_msg& p : turn.progress) completions.on_progress(p);
      for (pt::routed_result& r : turn.results) take_result(r.result);
    }
    for (std::vector<pt::task_result_msg> now; !refused.empty();) {
      now.swap(refused);
      for (const pt::task_result_msg& r : now) take_result(r);
      now.clear();
    }
    // What the job actors made of the results: new tasks out at once, finished jobs written.
    dispatch_all(jobs.drain());
    withdraw(jobs.take_withdrawn());
    for (pt::role_router& router : routers) router.flush(); // not at the next turn: now
  }
  log.line("info", "stopped; " + std::to_string(jobs.size()) + " jobs left for reclaim");
  return 0;
}

} // namespace proofmesh::coordinator
