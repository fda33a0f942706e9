// `proofmesh up` as a user runs it: the whole mesh from one command (redis-server, coordinator,
// gateway, and either one replica per role or one combined worker serving every role (--workers
// 1), tiny random model); a job submitted through the gateway with
// `proofmesh submit --watch` completes with its progress shown, `proofmesh result` reads it, and
// SIGTERM brings everything down with exit 0 and no process of the mesh left behind.
#include "actors/engine/model/model_init.hpp"
#include "actors/transport/redis_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <filesystem>
#include <fstream>
#include <vector>

namespace proofmesh {
namespace {

using namespace std::chrono_literals;

// The processes whose command line mentions every one of `needles` (our temp folder names are
// unique).
std::vector<pid_t> pids_mentioning(std::initializer_list<std::string> needles) {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (std::all_of(needles.begin(), needles.end(), [&](const std::string& n) {
          return cmdline.find(n) != std::string::npos;
        })) {
      pids.push_back(std::stoi(name));
    }
  }
  return pids;
}

int processes_mentioning(const std::string& needle) {
  return static_cast<int>(pids_mentioning({needle}).size());
}

// The file's text, or "" while it does not exist yet.
std::string text_of(const std::string& path) {
  return std::filesystem::exists(path) ? testing::read_file(path) : std::string();
}

// A secret file's text without its newline.
std::string secret(const std::string& path) {
  std::string text = testing::read_file(path);
  text.erase(text.find_last_not_of("\n") + 1);
  return text;
}

const std::string cli = std::string(PM_BUILD_DIR) + "/proofmesh";

// `proofmesh up` on a tiny random model in `dir`, with `extra` flags, once it says "mesh up".
struct up_mesh {
  int gateway_port = 0;
  std::unique_ptr<testing::child_process> process;
};

up_mesh start_up(const testing::temp_dir& dir, const std::vector<std::string>& extra) {
  engine::init_random_model(
      {.arch = engine::model_arch::model_arch_llama, .seed = 8, .out_dir = dir.str("model")});
  const int redis_port = testing::free_port();
  up_mesh mesh{.gateway_port = testing::free_port()};
  const int base_port = testing::free_port(); // base, base+1, base+2: the next two picks
  testing::free_port();
  testing::free_port();
  std::vector<std::string> argv = {cli, "up", "--model", dir.str("model"), "--log-dir",
                                   dir.str("mesh"), "--redis-port", std::to_string(redis_port),
                                   "--base-port", std::to_string(base_port), "--gateway-port",
                                   std::to_string(mesh.gateway_port), "--slots", "3"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  mesh.process = std::make_unique<testing::child_process>(argv, dir.str("up.log"));
  const auto ready = std::chrono::steady_clock::now() + 60s;
  while (text_of(dir.str("up.log")).find("mesh up") == std::string::npos &&
         std::chrono::steady_clock::now() < ready) {
    std::this_thread::sleep_for(50ms);
  }
  return mesh;
}

// The gateway flags of the CLI for the mesh of `dir`.
std::string gateway_flags(const testing::temp_dir& dir, const up_mesh& mesh) {
  return " --gateway http://127.0.0.1:" + std::to_string(mesh.gateway_port) + " --api-key " +
         secret(dir.str("mesh/api.key"));
}

// A quick job of one problem and two short proofs through `proofmesh submit --watch`.
testing::command_result submit_quick_job(const testing::temp_dir& dir, const up_mesh& mesh) {
  dir.write("job.jsonl", std::string(R"({"question": "Prove that 2 + 2 = 4."})" "\n"));
  return testing::run_command(cli + " submit " + dir.str("job.jsonl") +
                                  " --strategy quick --num-proofs 2 --max-tokens 8"
                                  " --param max_rounds=1 --param empty_round_retries=0"
                                  " --param verify_max_tokens=8 --watch" +
                                  gateway_flags(dir, mesh),
                              dir.str("submit.err"));
}

// Dedicated replicas (the default), or one combined worker.
class up : public ::testing::TestWithParam<bool> {};

TEST_P(up, runs_a_job_end_to_end_and_leaves_nothing_behind) {
  const bool combined = GetParam();
  testing::temp_dir dir;
  up_mesh mesh = start_up(dir, combined ? std::vector<std::string>{"--workers", "1",
                                                                   "--block-size", "8"}
                                        : std::vector<std::string>{});
  testing::child_process& up = *mesh.process;
  ASSERT_NE(text_of(dir.str("up.log")).find("mesh up"), std::string::npos)
      << text_of(dir.str("up.log"));
  EXPECT_NE(text_of(dir.str("up.log"))
                .find(combined ? "1 combined worker(s), 0 generator(s), 0 verifier(s), 0 meta"
                               : "0 combined worker(s), 1 generator(s), 1 verifier(s), 1 meta"),
            std::string::npos)
      << text_of(dir.str("up.log"));
  // The Redis password is on no process's command line (Redis reads a 0600 config file, the
  // services the environment).
  const std::string password = secret(dir.str("mesh/redis.password"));
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(processes_mentioning(password), 0);
  EXPECT_EQ(std::filesystem::status(dir.str("mesh/redis.conf")).permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  EXPECT_EQ(std::filesystem::status(dir.str("mesh/api.key")).permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  const std::string gateway = gateway_flags(dir, mesh);
  auto submitted = submit_quick_job(dir, mesh);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err << text_of(dir.str("mesh/gateway.log"));
  const std::string id = submitted.out.substr(0, submitted.out.find('\n'));
  EXPECT_NE(submitted.err.find("job " + id + " completed"), std::string::npos) << submitted.err;
  EXPECT_NE(submitted.err.find("2/2 tasks"), std::string::npos) << submitted.err;
  // Per-problem progress and the final selection (a random model: no proof parses).
  EXPECT_NE(submitted.err.find("p0: failed after 1 rounds"), std::string::npos) << submitted.err;
  EXPECT_NE(submitted.err.find("final selection (0 of 1 solved):"), std::string::npos)
      << submitted.err;
  auto result = testing::run_command(cli + " result " + id + gateway, dir.str("result.err"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\"status\":\"completed\""), std::string::npos) << result.out;
  // A wrong key is the caller's mistake: exit 2 and the gateway's code.
  auto denied = testing::run_command(cli + " status " + id + " --gateway http://127.0.0.1:" +
                                         std::to_string(mesh.gateway_port) + " --api-key wrong",
                                     dir.str("denied.err"));
  EXPECT_EQ(denied.exit_code, 2);
  EXPECT_NE(denied.err.find("invalid_api_key"), std::string::npos) << denied.err;
  up.signal(SIGTERM);
  EXPECT_EQ(up.wait_exit(120s), std::optional<int>(0)) << text_of(dir.str("up.log"));
  EXPECT_EQ(processes_mentioning(dir.str("mesh")), 0);  // redis-server's --dir
  EXPECT_EQ(processes_mentioning(dir.str("model")), 0); // the workers' --model
  if (combined) { // one process served all three roles, with the engine flags up was given
    const std::string worker = text_of(dir.str("mesh/worker-0.log"));
    for (const char* role : {"generator", "verifier", "meta_verifier"}) {
      EXPECT_NE(worker.find(std::string("serving ") + role + " tasks from"), std::string::npos)
          << worker;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.str("mesh/generator-0.log")));
  }
}

// up supervises: a worker killed with SIGKILL is started again (the log says so), and a job
// submitted after that completes.
TEST(up_supervision, a_killed_worker_is_started_again_and_the_mesh_keeps_working) {
  testing::temp_dir dir;
  up_mesh mesh = start_up(dir, {});
  ASSERT_NE(text_of(dir.str("up.log")).find("mesh up"), std::string::npos)
      << text_of(dir.str("up.log"));
  // The generator: the job needs it, its tasks go nowhere else.
  const std::vector<pid_t> generator = pids_mentioning({dir.str("model"), "generator-0"});
  ASSERT_EQ(generator.size(), 1u);
  ::kill(generator[0], SIGKILL);
  const auto back = std::chrono::steady_clock::now() + 30s;
  while (text_of(dir.str("up.log")).find("started generator-0 again") == std::string::npos &&
         std::chrono::steady_clock::now() < back) {
    std::this_thread::sleep_for(50ms);
  }
  const std::string log = text_of(dir.str("up.log"));
  EXPECT_NE(log.find("generator-0 was killed by signal 9 (see its log); restarting it in 500 ms"),
            std::string::npos)
      << log;
  ASSERT_NE(log.find("started generator-0 again"), std::string::npos) << log;
  auto submitted = submit_quick_job(dir, mesh);
  EXPECT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_NE(submitted.err.find(" completed"), std::string::npos) << submitted.err;
  mesh.process->signal(SIGTERM);
  EXPECT_EQ(mesh.process->wait_exit(120s), std::optional<int>(0)) << text_of(dir.str("up.log"));
  EXPECT_EQ(processes_mentioning(dir.str("model")), 0);
}

INSTANTIATE_TEST_SUITE_P(workers, up, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "combined" : "dedicated"; });

} // namespace
} // namespace proofmesh
