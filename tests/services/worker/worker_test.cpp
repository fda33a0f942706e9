// proofmesh-worker as a real process on real ZeroMQ sockets, with a tiny random model on the CPU:
// it serves the tasks a coordinator-side role_router sends, within its credit; two replicas both
// get work; a replica killed with SIGKILL mid-task has its tasks re-sent to the other, every task
// is answered exactly once; SIGTERM drains and exits 0; bad flags exit 2 with one line.
// Loops stop at generous deadlines so a bug fails instead of hanging; nothing asserts a time.
#include "actors/engine/model/model_init.hpp"
#include "actors/transport/role_router.hpp"
#include "actors/transport/worker_link.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using namespace transport;

class worker_test : public ::testing::Test {
protected:
  void SetUp() override {
    engine::init_random_model(
        {.arch = engine::model_arch::model_arch_llama, .seed = 3, .out_dir = dir_.str("model")});
  }

  std::unique_ptr<testing::child_process> start(const std::string& id,
                                                const std::string& endpoint,
                                                int metrics_port = 0) {
    return std::make_unique<testing::child_process>(
        std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-worker", "--role",
                                 "verifier", "--coordinator", endpoint, "--model",
                                 dir_.str("model"), "--slots", "2", "--heartbeat-ms", "100",
                                 "--worker-id", id, "--metrics-port",
                                 std::to_string(metrics_port)},
        dir_.str(id + ".log"));
  }

  static task_msg task(int i, int32_t max_tokens) {
    std::string id = "job/p0/r0/verify/";
    id += std::to_string(i);
    return {.task_id = id, .job_id = "job",
            .input = verify_input{"Prove that 1 + 1 = 2.", "By definition of 2."},
            .sampling = {.temperature = 0.8f, .top_p = 0.95f, .max_tokens = max_tokens,
                         .seed = 7, .stream = static_cast<uint64_t>(i)}};
  }

  testing::temp_dir dir_;
  zmq::context_t context_;
};

TEST_F(worker_test, two_replicas_serve_every_task_once) {
  role_router router(context_, {.endpoint = "tcp://127.0.0.1:*", .served = role::role_verifier});
  const int metrics_port = testing::free_port();
  auto a = start("verifier-a", router.endpoint(), metrics_port);
  auto b = start("verifier-b", router.endpoint());
  // Both replicas advertise their slots before any task exists, so both get the first ones.
  const auto connected = std::chrono::steady_clock::now() + 60s;
  while (router.dispatcher().num_workers() < 2 && std::chrono::steady_clock::now() < connected) {
    router.poll(10ms);
  }
  ASSERT_EQ(router.dispatcher().num_workers(), 2u);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(router.submit(task(i, 6)));
  }
  std::map<std::string, task_result_msg> results;
  std::map<worker_id, int> per_worker;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (results.size() < 12 && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : router.poll(10ms).results) {
      ++per_worker[worker_name(r.worker)];
      EXPECT_TRUE(results.emplace(r.result.task_id, r.result).second)
          << "answered twice: " << r.result.task_id;
    }
  }
  EXPECT_GT(per_worker["verifier-a"], 0);
  EXPECT_GT(per_worker["verifier-b"], 0);
  ASSERT_EQ(results.size(), 12u) << testing::read_file(dir_.str("verifier-a.log"));
  for (const auto& [id, r] : results) {
    // A random model rarely writes a parseable verdict; either way the result is typed.
    EXPECT_TRUE(r.status == task_status::task_status_ok ||
                r.status == task_status::task_status_unparseable ||
                r.status == task_status::task_status_truncated) << r.error;
    EXPECT_GE(r.completion_tokens, 1u);
    EXPECT_LE(r.completion_tokens, 6u);
    EXPECT_GT(r.prompt_tokens, 0u);
  }
  EXPECT_EQ(router.drops().total(), 0u);
  // Replica a's operations endpoint counts what it answered.
  testing::http_reply m = testing::http_get(metrics_port, "/metrics");
  ASSERT_EQ(m.status, 200);
  int answered = 0;
  const std::regex series(
      "proofmesh_worker_tasks_total\\{role=\"verifier\",status=\"\\w+\"\\} (\\d+)");
  for (auto it = std::sregex_iterator(m.body.begin(), m.body.end(), series);
       it != std::sregex_iterator(); ++it) {
    answered += std::stoi((*it)[1]);
  }
  EXPECT_EQ(answered, per_worker["verifier-a"]) << m.body;
  EXPECT_NE(m.body.find("proofmesh_worker_completion_tokens_total"), std::string::npos);
  EXPECT_NE(m.body.find("proofmesh_worker_task_seconds_count{role=\"verifier\"} " +
                        std::to_string(answered) + "\n"),
            std::string::npos)
      << m.body;
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  EXPECT_EQ(a->wait_exit(30s), std::optional<int>(0));
  EXPECT_EQ(b->wait_exit(30s), std::optional<int>(0));
}

TEST_F(worker_test, a_killed_replicas_tasks_go_to_the_other) {
  role_router router(context_, {.endpoint = "tcp://127.0.0.1:*", .served = role::role_verifier,
                                .dispatch = {.heartbeat_timeout = 1000ms}});
  auto doomed = start("verifier-doomed", router.endpoint());
  // Long tasks, so the doomed worker is mid-task when it dies.
  for (int i = 0; i < 4; ++i) {
    router.submit(task(i, 2000));
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (router.dispatcher().num_in_flight() < 2 && std::chrono::steady_clock::now() < deadline) {
    router.poll(10ms);
  }
  ASSERT_EQ(router.dispatcher().num_in_flight(), 2u); // its two slots
  doomed->signal(SIGKILL);
  EXPECT_EQ(doomed->wait_exit(10s), std::optional<int>(128 + SIGKILL));
  auto survivor = start("verifier-survivor", router.endpoint());
  std::set<std::string> done;
  std::vector<worker_id> expired;
  deadline = std::chrono::steady_clock::now() + 300s;
  while (done.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    router_events ev = router.poll(10ms);
    expired.insert(expired.end(), ev.expired.begin(), ev.expired.end());
    for (auto& r : ev.results) {
      EXPECT_EQ(worker_name(r.worker), "verifier-survivor");
      EXPECT_TRUE(done.insert(r.result.task_id).second) << "answered twice: " << r.result.task_id;
    }
  }
  EXPECT_EQ(done.size(), 4u) << testing::read_file(dir_.str("verifier-survivor.log"));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(worker_name(expired[0]), "verifier-doomed");
  survivor->signal(SIGTERM);
  EXPECT_EQ(survivor->wait_exit(60s), std::optional<int>(0));
}

TEST_F(worker_test, bad_flags_exit_2_with_one_line) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--role", "poet", "--coordinator", "tcp://127.0.0.1:1",
                                 "--model", dir_.str("model")},
        std::vector<std::string>{"--role", "verifier", "--coordinator", "http://x", "--model",
                                 dir_.str("model")},
        std::vector<std::string>{"--role", "verifier", "--coordinator", "tcp://127.0.0.1:1",
                                 "--model", dir_.str("model"), "--slots", "0"},
        std::vector<std::string>{"--role", "verifier", "--coordinator", "tcp://127.0.0.1:1",
                                 "--model", "/nonexistent"},
        std::vector<std::string>{"--role", "verifier", "--coordinator", "tcp://127.0.0.1:1",
                                 "--model", dir_.str("model"), "--templates", "/nonexistent.json"}}) {
    std::vector<std::string> argv{std::string(PM_BUILD_DIR) + "/proofmesh-worker"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::child_process p(argv, dir_.str("bad.log"));
    EXPECT_EQ(p.wait_exit(30s), std::optional<int>(2)) << args[1] << " " << args[3];
    const std::string err = testing::read_file(dir_.str("bad.log"));
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

} // namespace
} // namespace proofmesh
