// The mesh end to end, without HTTP: a real redis-server (AOF), a real proofmesh-coordinator and
// real proofmesh-worker processes (one generator, two verifiers, one meta-verifier) on a tiny
// random model, jobs submitted with XADD. A job completes with consistent counts; a malformed job
// is dead-lettered while the good one runs; a coordinator killed with SIGKILL mid-job is
// replaced and the job completes with exactly one recorded result per task; Redis killed and
// restarted mid-job (AOF) loses nothing and the job completes.
// The random model's proofs never parse, so every generation is given up: those counts check the
// accounting (each generation answered once). On scripted models (every output parses) a job
// killed mid-way ends with exactly the counts of an undisturbed run of the same job. Loops stop
// at generous deadlines; nothing asserts a time.
#include "actors/engine/model/model_init.hpp"
#include "actors/transport/job_queue.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/scripted_models.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using namespace transport;

class coordinator_test : public ::testing::Test {
protected:
  void SetUp() override {
    engine::init_random_model(
        {.arch = engine::model_arch::model_arch_llama, .seed = 5, .out_dir = dir_.str("model")});
    for (auto& e : endpoints_) {
      e = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
    }
  }

  std::unique_ptr<testing::child_process> coordinator(const std::string& name,
                                                      int metrics_port = 0,
                                                      const std::array<std::string, 3>* at =
                                                          nullptr) {
    const std::array<std::string, 3>& e = at != nullptr ? *at : endpoints_;
    return std::make_unique<testing::child_process>(
        std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-coordinator",
                                 "--metrics-port", std::to_string(metrics_port),
                                 "--redis-port", std::to_string(redis_.port()),
                                 "--redis-password", redis_.password(),
                                 "--generator-endpoint", e[0],
                                 "--verifier-endpoint", e[1],
                                 "--meta-verifier-endpoint", e[2], "--consumer", name,
                                 "--min-idle-ms", "300", "--worker-timeout-ms", "2000"},
        dir_.str(name + ".log"));
  }

  // One generator, two verifiers, one meta-verifier; on the random model, or on scripted ones.
  void start_workers(bool scripted = false, int slots = 2) {
    const char* roles[] = {"generator", "verifier", "verifier", "meta_verifier"};
    const int socket[] = {0, 1, 1, 2};
    std::string models[3] = {dir_.str("model"), dir_.str("model"), dir_.str("model")};
    if (scripted) {
      testing::scripted_model_dirs m = testing::make_scripted_models(dir_.str("scripted"));
      models[0] = m.generator;
      models[1] = m.verifier;
      models[2] = m.meta_verifier;
    }
    for (int i = 0; i < 4; ++i) {
      const std::string id = std::string(roles[i]) + "-" + std::to_string(i);
      workers_.push_back(std::make_unique<testing::child_process>(
          std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-worker", "--role",
                                   roles[i], "--coordinator", endpoints_[socket[i]], "--model",
                                   models[socket[i]], "--slots", std::to_string(slots),
                                   "--heartbeat-ms", "100", "--worker-id", id},
          dir_.str(id + ".log")));
    }
  }

  // Waits (up to two minutes) until the job's ledger holds `n` results; returns how many it has.
  int64_t wait_ledger(const std::string& job, int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    int64_t have = 0;
    while ((have = client_.command({"HLEN", "job:" + job + ":ledger"}).integer) < n &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
    return have;
  }

  // Waits for job:<id> to complete; returns its result JSON (null on timeout).
  nlohmann::json wait_result(const std::string& job, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      redis_reply r = client_.command({"GET", "job:" + job + ":result"});
      if (r.kind == redis_kind::redis_kind_string) {
        return nlohmann::json::parse(r.str);
      }
      std::this_thread::sleep_for(50ms);
    }
    return nullptr;
  }

  // One round of the quick strategy, no empty-round retries: every count is predictable.
  static std::string job(const std::string& id, int proofs, int max_tokens, int rounds = 1) {
    return nlohmann::json{{"id", id},
                          {"problems", {{{"question", "Prove that 2 is even."},
                                         {"problem_idx", "even"}},
                                        {{"question", "Prove that 3 is odd."}}}},
                          {"strategy", "quick"},
                          {"params", {{"num_proofs", proofs}, {"verifications_per_proof", 2},
                                      {"max_tokens", max_tokens}, {"verify_max_tokens", max_tokens},
                                      {"max_rounds", rounds}, {"empty_round_retries", 0}}}}
        .dump();
  }
  // The job's progress events by type; `result_tasks` gets the task (after the job id) of each
  // recorded result's event, as often as it was written.
  std::map<std::string, int> event_counts(const std::string& job,
                                          std::multiset<std::string>* result_tasks = nullptr) {
    std::map<std::string, int> counts;
    redis_reply r = client_.command({"XRANGE", "job:" + job + ":events", "-", "+"});
    for (const redis_reply& entry : r.elements) {
      const nlohmann::json ev = nlohmann::json::parse(entry.elements.at(1).elements.at(1).str);
      ++counts[ev["type"].get<std::string>()];
      if (result_tasks != nullptr && ev["type"] == "result" && ev["status"] != "failed") {
        const std::string task = ev["task"];
        result_tasks->insert(task.substr(task.find('/') + 1));
      }
    }
    return counts;
  }
  // What the coordinator's /healthz says (null when it does not answer).
  static nlohmann::json health(int port) {
    testing::http_reply h = testing::http_get(port, "/healthz");
    return h.status == 200 ? nlohmann::json::parse(h.body, nullptr, false) : nlohmann::json();
  }
  static int lost(const nlohmann::json& counts) {
    return counts["truncated"].get<int>() + counts["unparseable"].get<int>() +
           counts["dead_lettered"].get<int>();
  }

  testing::temp_dir dir_;
  testing::redis_server redis_;
  redis_client client_{{.port = redis_.port(), .password = redis_.password()}};
  std::array<std::string, 3> endpoints_;
  std::vector<std::unique_ptr<testing::child_process>> workers_;
};

TEST_F(coordinator_test, a_job_completes_and_a_bad_one_is_dead_lettered) {
  const int metrics_port = testing::free_port();
  auto c = coordinator("coordinator-1", metrics_port);
  start_workers();
  job_queue queue(client_, {.consumer = "test-producer"});
  queue.add(R"({"problems": "not a list"})");
  queue.add(job("job-ok", 3, 8));
  nlohmann::json result = wait_result("job-ok", 180s);
  ASSERT_FALSE(result.is_null()) << testing::read_file(dir_.str("coordinator-1.log"));
  ASSERT_EQ(result["problems"].size(), 2u);
  int proofs = 0;
  for (const auto& p : result["problems"]) {
    const auto& n = p["counts"];
    // Every generation answered once: a parsed proof, or lost (with verifications of a
    // parsed proof adding to the lost only when they do not parse).
    EXPECT_GE(n["proofs"].get<int>() + lost(n), 3) << p.dump();
    proofs += n["proofs"].get<int>();
  }
  if (proofs == 0) {
    EXPECT_EQ(client_.command({"HLEN", "job:job-ok:ledger"}).integer, 6); // the 6 generations
  }
  EXPECT_EQ(client_.command({"HGET", "job:job-ok", "status"}).str, "completed");
  redis_reply dead = client_.command({"XRANGE", "jobs:dead", "-", "+"});
  ASSERT_EQ(dead.elements.size(), 1u);
  EXPECT_NE(dead.elements[0].elements[1].elements[3].str.find("problems"), std::string::npos);
  EXPECT_EQ(queue.num_pending(), 0); // both entries acknowledged
  // The operations endpoint says so too, once the coordinator has finished writing the job's
  // end (its result is visible a few Redis writes before the counter moves).
  testing::http_reply m = testing::http_get(metrics_port, "/metrics");
  ASSERT_EQ(m.status, 200);
  const auto counted = std::chrono::steady_clock::now() + 30s;
  while (m.body.find("proofmesh_coordinator_jobs_completed_total 1\n") == std::string::npos &&
         std::chrono::steady_clock::now() < counted) {
    std::this_thread::sleep_for(20ms);
    m = testing::http_get(metrics_port, "/metrics");
  }
  EXPECT_NE(m.body.find("proofmesh_coordinator_jobs_completed_total 1\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("proofmesh_coordinator_jobs_dead_lettered_total 1\n"), std::string::npos);
  if (proofs == 0) {
    EXPECT_NE(m.body.find("proofmesh_coordinator_results_total 6\n"), std::string::npos);
  }
  // Both verifier replicas register, whether or not this job needed them (they may still be
  // loading the model when a quick job ends).
  const auto registered = std::chrono::steady_clock::now() + 60s;
  while (m.body.find("proofmesh_coordinator_workers{role=\"verifier\"} 2\n") == std::string::npos &&
         std::chrono::steady_clock::now() < registered) {
    std::this_thread::sleep_for(50ms);
    m = testing::http_get(metrics_port, "/metrics");
  }
  EXPECT_NE(m.body.find("proofmesh_coordinator_workers{role=\"verifier\"} 2\n"),
            std::string::npos)
      << m.body;
  EXPECT_EQ(testing::http_get(metrics_port, "/healthz").status, 200);
  testing::http_reply missing = testing::http_get(metrics_port, "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"code\": \"not_found\""), std::string::npos);
}

TEST_F(coordinator_test, a_killed_coordinator_is_replaced_and_nothing_counts_twice) {
  auto first = coordinator("coordinator-doomed");
  start_workers();
  job_queue queue(client_, {.consumer = "test-producer"});
  queue.add(job("job-crash", 6, 300));
  // Kill it once some results are recorded, before the job can finish.
  wait_ledger("job-crash", 2);
  first->signal(SIGKILL);
  ASSERT_EQ(first->wait_exit(10s), std::optional<int>(128 + SIGKILL));
  const int64_t before = client_.command({"HLEN", "job:job-crash:ledger"}).integer;
  ASSERT_LT(before, 12) << "the job finished before the kill; nothing was tested";
  auto second = coordinator("coordinator-heir");
  nlohmann::json result = wait_result("job-crash", 300s);
  ASSERT_FALSE(result.is_null()) << testing::read_file(dir_.str("coordinator-heir.log"));
  // 2 problems x 6 generations, one recorded result each, whoever ran them.
  EXPECT_EQ(client_.command({"HLEN", "job:job-crash:ledger"}).integer, 12);
  EXPECT_EQ(client_.command({"HGET", "job:job-crash", "status"}).str, "completed");
  for (const auto& p : result["problems"]) {
    EXPECT_EQ(p["counts"]["proofs"].get<int>(), 0); // a random model's proofs do not parse
    EXPECT_EQ(lost(p["counts"]), 6);
    EXPECT_EQ(p["status"], "failed"); // not one proof: the reason says why
    EXPECT_NE(p["reason"].get<std::string>().find("no proof"), std::string::npos);
  }
  const std::string log = testing::read_file(dir_.str("coordinator-heir.log"));
  EXPECT_NE(log.find("results replayed"), std::string::npos);
  second->signal(SIGTERM);
  EXPECT_EQ(second->wait_exit(30s), std::optional<int>(0));
}

TEST_F(coordinator_test, a_resumed_job_ends_with_the_pool_of_an_undisturbed_run) {
  auto calm = coordinator("coordinator-calm");
  start_workers(/*scripted=*/true, /*slots=*/1);
  job_queue queue(client_, {.consumer = "test-producer"});
  // Per problem, two rounds. Round 1: 20 proofs, 2 ratings each (0.5, so each meta-verified
  // once): 100 tasks; the scripted proofs are one text, so one pooled proof with 40 ratings.
  // Round 2: 2 refinement prompts x 10 samples, verified and meta-verified: 50 tasks, all
  // repeats of the pooled text, so the pool stays one proof.
  queue.add(job("job-calm", 20, 16, 2));
  nlohmann::json undisturbed = wait_result("job-calm", 300s);
  ASSERT_FALSE(undisturbed.is_null()) << testing::read_file(dir_.str("coordinator-calm.log"));
  for (const auto& p : undisturbed["problems"]) {
    EXPECT_EQ(p["counts"], nlohmann::json({{"proofs", 30}, {"ratings", 60}, {"meta_ratings", 60},
                                           {"ratings_dropped", 0}, {"truncated", 0},
                                           {"unparseable", 0}, {"dead_lettered", 0}}))
        << p.dump();
    EXPECT_EQ(p["rounds"], 2);
    EXPECT_EQ(p["status"], "unsolved");
    EXPECT_EQ(p["best"]["verifications"], 40);
  }
  // The same job again, its coordinator killed once some results are in.
  queue.add(job("job-storm", 20, 16, 2));
  wait_ledger("job-storm", 5);
  calm->signal(SIGKILL);
  ASSERT_EQ(calm->wait_exit(10s), std::optional<int>(128 + SIGKILL));
  ASSERT_LT(client_.command({"HLEN", "job:job-storm:ledger"}).integer, 300)
      << "the job finished before the kill; nothing was tested";
  auto heir = coordinator("coordinator-heir");
  nlohmann::json resumed = wait_result("job-storm", 300s);
  ASSERT_FALSE(resumed.is_null()) << testing::read_file(dir_.str("coordinator-heir.log"));
  ASSERT_EQ(resumed["problems"].size(), undisturbed["problems"].size());
  for (size_t i = 0; i < resumed["problems"].size(); ++i) {
    EXPECT_EQ(resumed["problems"][i]["counts"], undisturbed["problems"][i]["counts"]);
    EXPECT_EQ(resumed["problems"][i]["best"], undisturbed["problems"][i]["best"]);
  }
  EXPECT_EQ(client_.command({"HLEN", "job:job-storm:ledger"}).integer, 300);
  // The pools in Redis: the same records, field for field.
  for (const std::string problem : {"even", "p1"}) {
    redis_reply calm_pool = client_.command({"HGETALL", "job:job-calm:pool:" + problem});
    redis_reply storm_pool = client_.command({"HGETALL", "job:job-storm:pool:" + problem});
    ASSERT_EQ(calm_pool.elements.size(), 2u) << problem;
    ASSERT_EQ(storm_pool.elements.size(), 2u) << problem;
    EXPECT_EQ(nlohmann::json::parse(storm_pool.elements[1].str),
              nlohmann::json::parse(calm_pool.elements[1].str));
  }
  // The progress events: each fact's event exactly once, resume or not. Only `started` differs:
  // each coordinator that took the job said so.
  std::multiset<std::string> calm_tasks, storm_tasks;
  std::map<std::string, int> calm_events = event_counts("job-calm", &calm_tasks);
  std::map<std::string, int> storm_events = event_counts("job-storm", &storm_tasks);
  for (const char* type : {"round", "problem_done", "result", "completed"}) {
    EXPECT_EQ(storm_events[type], calm_events[type]) << type;
  }
  EXPECT_EQ(calm_events["round"], 4);
  EXPECT_EQ(calm_events["result"], 300);
  EXPECT_EQ(std::set<std::string>(calm_tasks.begin(), calm_tasks.end()).size(), 300u);
  EXPECT_EQ(storm_tasks, calm_tasks) << "a result event repeated or missing after the resume";
  EXPECT_EQ(calm_events["started"], 1);
  EXPECT_EQ(storm_events["started"], 2);
}

// Redis killed mid-job and away for ten seconds, then slow to load its data (LOADING for about
// three seconds): the coordinator waits it out and says so on /healthz, keeps the results that
// came meanwhile, and the job completes with one recorded result per task.
TEST_F(coordinator_test, a_coordinator_rides_out_a_ten_second_redis_outage_and_loading) {
  const int metrics_port = testing::free_port();
  auto c = coordinator("coordinator-1", metrics_port);
  start_workers();
  // Filler keys in the AOF's RDB base, so that loading them at a millisecond each takes seconds.
  for (int i = 0; i < 3000; ++i) client_.command({"SET", "filler:" + std::to_string(i), "x"});
  client_.command({"BGREWRITEAOF"});
  for (int i = 0; i < 600; ++i) {
    const std::string info = client_.command({"INFO", "persistence"}).str;
    if (info.find("aof_rewrite_in_progress:0") != std::string::npos &&
        info.find("aof_rewrite_scheduled:0") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  job_queue queue(client_, {.consumer = "test-producer"});
  queue.add(job("job-outage", 6, 300));
  wait_ledger("job-outage", 2);
  ASSERT_LT(client_.command({"HLEN", "job:job-outage:ledger"}).integer, 12)
      << "the job finished before the outage; nothing was tested";
  redis_.stop(SIGKILL);
  const auto away = std::chrono::steady_clock::now();
  nlohmann::json said;
  while (std::chrono::steady_clock::now() - away < 10s) {
    ASSERT_FALSE(c->wait_exit(200ms)) << testing::read_file(dir_.str("coordinator-1.log"));
    said = health(metrics_port);
  }
  EXPECT_EQ(said.value("status", ""), "waiting") << said.dump();
  EXPECT_EQ(said.value("waiting_for", ""), "redis") << said.dump();
  EXPECT_TRUE(said.contains("since_s") && said["since_s"].is_number_integer()) << said.dump();
  // Back, but loading: LOADING answers until it has read its data.
  std::atomic<bool> loaded = false;
  std::thread loader([&] {
    // Events served every KB read, so clients get LOADING rather than a wait at the door.
    redis_.start_again({"--key-load-delay", "1000", "--loading-process-events-interval-bytes",
                        "1024"});
    loaded = true;
  });
  bool saw_loading = false;
  while (!loaded) {
    said = health(metrics_port);
    saw_loading |= said.value("error", "").find("LOADING") != std::string::npos;
    std::this_thread::sleep_for(20ms);
  }
  loader.join();
  EXPECT_TRUE(saw_loading) << "the coordinator never met LOADING; nothing was tested";
  nlohmann::json result = wait_result("job-outage", 300s);
  ASSERT_FALSE(result.is_null()) << testing::read_file(dir_.str("coordinator-1.log"));
  EXPECT_EQ(client_.command({"HLEN", "job:job-outage:ledger"}).integer, 12);
  EXPECT_EQ(client_.command({"HGET", "job:job-outage", "status"}).str, "completed");
  for (int i = 0; i < 100 && health(metrics_port).value("status", "") != "ok"; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(health(metrics_port).value("status", ""), "ok");
  const std::string log = testing::read_file(dir_.str("coordinator-1.log"));
  EXPECT_NE(log.find("waiting for redis"), std::string::npos) << log;
  EXPECT_NE(log.find("redis answers again"), std::string::npos) << log;
  c->signal(SIGTERM);
  EXPECT_EQ(c->wait_exit(30s), std::optional<int>(0));
}

// Two live coordinators share the queue (each with its own workers): a job that runs longer than
// --min-idle-ms stays with the one that has it; the other must not take it for a dead one's.
TEST_F(coordinator_test, a_long_job_is_not_reclaimed_from_a_live_coordinator) {
  auto owner = coordinator("coordinator-owner");
  start_workers();
  job_queue queue(client_, {.consumer = "test-producer"});
  queue.add(job("job-long", 6, 300)); // seconds of work at slots 2; min-idle is 300 ms
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (client_.command({"HGET", "job:job-long", "coordinator"}).is_nil() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  std::array<std::string, 3> elsewhere;
  for (auto& e : elsewhere) e = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
  auto rival = coordinator("coordinator-rival", 0, &elsewhere); // no workers: idle, reclaiming
  nlohmann::json result = wait_result("job-long", 300s);
  ASSERT_FALSE(result.is_null()) << testing::read_file(dir_.str("coordinator-owner.log"));
  EXPECT_EQ(client_.command({"HGET", "job:job-long", "coordinator"}).str, "coordinator-owner");
  EXPECT_EQ(testing::read_file(dir_.str("coordinator-rival.log")).find("job-long"),
            std::string::npos)
      << testing::read_file(dir_.str("coordinator-rival.log"));
}

TEST_F(coordinator_test, a_redis_restart_mid_job_loses_nothing) {
  auto c = coordinator("coordinator-1");
  start_workers();
  job_queue queue(client_, {.consumer = "test-producer"});
  queue.add(job("job-restart", 6, 300));
  wait_ledger("job-restart", 2);
  ASSERT_LT(client_.command({"HLEN", "job:job-restart:ledger"}).integer, 12);
  redis_.restart(/*hard=*/true); // SIGKILL: only the AOF (fsync always) survives
  nlohmann::json result = wait_result("job-restart", 300s);
  ASSERT_FALSE(result.is_null()) << testing::read_file(dir_.str("coordinator-1.log"));
  EXPECT_EQ(client_.command({"HLEN", "job:job-restart:ledger"}).integer, 12);
  EXPECT_EQ(client_.command({"HGET", "job:job-restart", "status"}).str, "completed");
  c->signal(SIGTERM);
  EXPECT_EQ(c->wait_exit(30s), std::optional<int>(0));
}

} // namespace
} // namespace proofmesh
