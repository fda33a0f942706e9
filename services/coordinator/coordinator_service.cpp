#include "services/coordinator/coordinator_service.hpp"

#include "actors/common/error.hpp"
#include "actors/pipeline/job_spec.hpp"
#include "actors/transport/job_queue.hpp"
#include "actors/transport/role_router.hpp"
#include "actors/transport/zmq_wait.hpp"
#include "services/common/metrics_server.hpp"
#include "services/common/service_log.hpp"
#include "services/common/service_main.hpp"
#include "services/coordinator/completion_runs.hpp"
#include "services/coordinator/job_ledger.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <map>

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;

coordinator_config parse_coordinator_config(int argc, char** argv, bool& help,
                                            std::string& help_text) {
  coordinator_config c;
  int64_t min_idle_ms = 60000, worker_timeout_ms = 10000;
  CLI::App app{"proofmesh-coordinator: runs proof jobs across the role services"};
  app.set_config("--config", "", "a TOML or INI file with these options; flags override it");
  app.add_option("--redis-host", c.redis_host);
  app.add_option("--redis-port", c.redis_port);
  app.add_option("--redis-password", c.redis_password);
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

namespace {

struct job_run {
  std::string entry;
  std::map<std::string, pp::simple_search> problems; // by problem id
  int64_t done = 0; // results recorded, replayed ones included (the events' progress figure)
  int64_t open() const {
    int64_t n = 0;
    for (const auto& [id, s] : problems) n += static_cast<int64_t>(s.open_tasks().size());
    return n;
  }
};

const char* status_name(pt::task_status s) {
  switch (s) {
  case pt::task_status::task_status_ok: return "ok";
  case pt::task_status::task_status_unparseable: return "unparseable";
  case pt::task_status::task_status_failed: return "failed";
  }
  return "unknown";
}

// job id and problem id from a task id "job/problem/...".
std::pair<std::string, std::string> owner_of(const std::string& task_id) {
  const size_t a = task_id.find('/');
  const size_t b = a == std::string::npos ? a : task_id.find('/', a + 1);
  if (b == std::string::npos) {
    return {};
  }
  return {task_id.substr(0, a), task_id.substr(a + 1, b - a - 1)};
}

std::string result_json(const std::string& job, const job_run& run, const std::string& status) {
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& [id, search] : run.problems) {
    pp::search_counts n = search.counts();
    nlohmann::json p = {{"problem_id", id},
                        {"counts", {{"proofs", n.proofs}, {"ratings", n.ratings},
                                    {"meta_ratings", n.meta_ratings},
                                    {"given_up", n.given_up}}}};
    if (auto best = search.best()) {
      p["best"] = {{"proof_index", best->index}, {"mean_score", best->mean_score()},
                   {"self_eval_score", best->self_eval_score}, {"solution", best->solution}};
    }
    problems.push_back(std::move(p));
  }
  return nlohmann::json{{"id", job}, {"status", status}, {"problems", problems}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

int run_coordinator(const coordinator_config& c, const std::atomic<bool>& stop_flag) {
  pt::redis_client queue_redis({.host = c.redis_host, .port = c.redis_port,
                                .password = c.redis_password});
  pt::redis_client ledger_redis({.host = c.redis_host, .port = c.redis_port,
                                 .password = c.redis_password});
  pt::job_queue queue(queue_redis, {.consumer = c.consumer, .min_idle = c.min_idle});
  pt::job_queue completion_queue(queue_redis, {.stream = "completions", .consumer = c.consumer,
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
  auto& jobs_completed = metrics.counter("proofmesh_coordinator_jobs_completed_total", "jobs done");
  auto& jobs_cancelled = metrics.counter("proofmesh_coordinator_jobs_cancelled_total",
                                         "jobs cancelled on request");
  auto& jobs_dead = metrics.counter("proofmesh_coordinator_jobs_dead_lettered_total",
                                    "malformed jobs moved to jobs:dead");
  auto& results = metrics.counter("proofmesh_coordinator_results_total", "task results recorded");
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
  const services::service_log log({{"service", "coordinator"}, {"consumer", c.consumer}});
  log.line("info", "coordinating");
  std::map<std::string, job_run> jobs;

  auto dispatch_all = [&](std::vector<pt::task_msg> tasks) {
    for (pt::task_msg& t : tasks) {
      routers[static_cast<size_t>(t.task_role())].submit(std::move(t));
    }
  };
  auto finish_if_done = [&](const std::string& job_id) {
    job_run& run = jobs.at(job_id);
    for (const auto& [id, s] : run.problems) {
      if (!s.done()) return;
    }
    ledger.complete(job_id, result_json(job_id, run, "completed"));
    ledger.event(job_id, R"({"type": "completed"})");
    queue.ack(run.entry); // only after the result is stored
    ledger.cancel_done(job_id); // a cancel that came too late has nothing left to do
    jobs_completed.add();
    log.line("info", "job " + job_id + " completed");
    jobs.erase(job_id);
  };
  // Cancelled: open tasks are withdrawn (queued ones dropped, running ones told to stop), what
  // was recorded so far becomes the result, and the entry is acknowledged like a finished job.
  auto cancel_job = [&](const std::string& job_id) {
    job_run& run = jobs.at(job_id);
    for (const auto& [id, s] : run.problems) {
      for (const auto& [task_id, task] : s.open_tasks()) {
        routers[static_cast<size_t>(task.task_role())].cancel(task_id);
      }
    }
    ledger.complete(job_id, result_json(job_id, run, "cancelled"), "cancelled");
    ledger.event(job_id, R"({"type": "cancelled"})");
    queue.ack(run.entry);
    ledger.cancel_done(job_id);
    jobs_cancelled.add();
    log.line("info", "job " + job_id + " cancelled");
    jobs.erase(job_id);
  };
  auto start_job = [&](const pt::job_entry& e) {
    if (!e.valid) {
      queue_redis.command({"XADD", "jobs:dead", "*", "entry", e.id, "reason", e.why});
      queue.ack(e.id);
      return;
    }
    pp::job_spec spec;
    try {
      spec = pp::parse_job_spec(e.body);
    } catch (const input_error& bad) {
      queue_redis.command({"XADD", "jobs:dead", "*", "entry", e.id, "reason", bad.what(), "job",
                           e.body});
      queue.ack(e.id);
      jobs_dead.add();
      log.line("warn", "dead-lettered " + e.id + ": " + bad.what());
      return;
    }
    const std::string job_id = spec.id.empty() ? e.id : spec.id;
    if (jobs.contains(job_id)) {
      return; // already running here
    }
    // A second entry for a finished job (a producer that submitted twice) must not reopen it.
    if (const std::string st = ledger.status(job_id); st == "completed" || st == "cancelled") {
      queue.ack(e.id);
      log.line("warn", "entry " + e.id + " names job " + job_id + ", already " + st);
      return;
    }
    ledger.begin(job_id, e.id, e.body, c.consumer);
    job_run& run = jobs[job_id];
    run.entry = e.id;
    std::vector<pt::task_msg> first;
    for (const pp::job_problem& p : spec.problems) {
      auto [it, _] = run.problems.emplace(
          p.problem_id, pp::simple_search(job_id, p.problem_id, p.question, spec.params));
      it->second.start();
    }
    // Resume: replay what is already recorded, then send whatever is still open.
    int64_t undecodable = 0;
    std::vector<pt::task_result_msg> recorded = ledger.load(job_id, &undecodable);
    for (const pt::task_result_msg& r : recorded) {
      auto [owner, problem] = owner_of(r.task_id);
      if (auto it = run.problems.find(problem); owner == job_id && it != run.problems.end()) {
        it->second.on_result(r);
        ++run.done;
      }
    }
    if (ledger.cancel_requested(job_id)) { // cancelled while it waited in the queue
      cancel_job(job_id);
      return;
    }
    for (auto& [id, s] : run.problems) {
      for (const auto& [task_id, task] : s.open_tasks()) {
        first.push_back(task);
      }
    }
    log.line("info", "job " + job_id + ": " + std::to_string(recorded.size()) +
                            " results replayed, " + std::to_string(first.size()) + " tasks open");
    ledger.event(job_id, nlohmann::json{{"type", "started"}, {"replayed", recorded.size()}}.dump());
    dispatch_all(std::move(first));
    finish_if_done(job_id);
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
      std::vector<std::string> running;
      for (const auto& [id, run] : jobs) running.push_back(id);
      for (const std::string& id : ledger.cancel_requested(running)) cancel_job(id);
      // Completions whose client went away (the gateway sets completion:<id>:cancel, which
      // expires on its own): stop their tasks.
      std::vector<std::string> live = completions.running_ids();
      if (!live.empty()) {
        std::vector<std::string> args = {"MGET"};
        for (const std::string& id : live) args.push_back("completion:" + id + ":cancel");
        pt::redis_reply gone = queue_redis.command(args);
        for (size_t i = 0; i < gone.elements.size() && i < live.size(); ++i) {
          if (gone.elements[i].is_nil()) continue;
          for (const std::string& task : completions.cancel(live[i])) {
            for (pt::role_router& router : routers) router.cancel(task);
          }
        }
      }
      last_depth = std::chrono::steady_clock::now();
    }
    if (std::chrono::steady_clock::now() - last_reclaim >= reclaim_every) {
      for (const pt::job_entry& e : queue.reclaim()) start_job(e);
      for (const pt::job_entry& e : completion_queue.reclaim()) completions.abandon(e);
      last_reclaim = std::chrono::steady_clock::now();
    }
    // Idle, the loop waits on Redis for a job. Busy, it waits on the workers' sockets (results
    // must not sit behind a Redis read, whose timeout runs on Redis's 100 ms clock) and looks
    // for new jobs without blocking, every few milliseconds.
    pt::job_queue* const streams[2] = {&queue, &completion_queue};
    auto take = [&](std::vector<std::vector<pt::job_entry>> fresh) {
      for (const pt::job_entry& e : fresh[0]) start_job(e);
      for (const pt::job_entry& e : fresh[1]) {
        std::array<size_t, 3> live{};
        for (size_t r = 0; r < 3; ++r) live[r] = routers[r].dispatcher().num_workers();
        dispatch_all(completions.start(e, live));
      }
      last_read = std::chrono::steady_clock::now();
    };
    if (jobs.empty() && completions.size() == 0) {
      take(pt::job_queue::read_all(streams, std::chrono::milliseconds(50)));
    } else {
      if (std::chrono::steady_clock::now() - last_read >= std::chrono::milliseconds(5)) {
        take(pt::job_queue::read_all(streams, std::chrono::milliseconds(0)));
      }
      zmq::socket_t* const sockets[3] = {&routers[0].socket(), &routers[1].socket(),
                                         &routers[2].socket()};
      pt::wait_any_readable(sockets, std::chrono::milliseconds(5));
    }
    for (pt::role_router& router : routers) {
      pt::router_events turn = router.poll(std::chrono::milliseconds(0));
      for (const pt::progress_msg& p : turn.progress) completions.on_progress(p);
      for (pt::routed_result& r : turn.results) {
        if (completions.owns(r.result.task_id)) {
          completion_runs::step next = completions.on_result(r.result);
          if (next.rerun) dispatch_all({std::move(*next.rerun)});
          for (const std::string& id : next.withdraw) router.cancel(id);
          continue;
        }
        auto [job_id, problem] = owner_of(r.result.task_id);
        auto job = jobs.find(job_id);
        if (job == jobs.end()) continue; // a job that finished, or that another coordinator runs
        auto search = job->second.problems.find(problem);
        if (search == job->second.problems.end()) continue;
        // The fact first: recorded in Redis before the strategy acts on it. A failure is not a
        // fact about the task (it is retried, under the same id), so it is not recorded.
        if (r.result.status != pt::task_status::task_status_failed &&
            !ledger.record(job_id, r.result)) {
          continue;
        }
        results.add();
        if (r.result.status != pt::task_status::task_status_failed) ++job->second.done;
        dispatch_all(search->second.on_result(r.result));
        nlohmann::json event = {{"type", "result"}, {"task", r.result.task_id},
                                {"status", status_name(r.result.status)},
                                {"done", job->second.done}, {"open", job->second.open()},
                                {"elapsed_ms", r.result.elapsed_ms}}; // the worker's engine time
        if (!r.result.error.empty()) event["error"] = r.result.error; // why it failed
        ledger.event(job_id, event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        finish_if_done(job_id);
      }
    }
  }
  log.line("info", "stopped; " + std::to_string(jobs.size()) + " jobs left for reclaim");
  return 0;
}

} // namespace proofmesh::coordinator
