// The role services with --backend openai, end to end: a second mesh (its own Redis and
// coordinator) whose three workers call the first mesh's gateway, a real HTTP server speaking
// the OpenAI API, backed by the scripted models. A job submitted to the second mesh completes
// with the counts the scripted models predict. Workers pointed at a port nobody listens on
// retry, fail, and the job's result names the dead-lettered tasks and why. Over https, through a
// TLS proxy with a certificate the test makes: a job completes with the certificate verified
// against the CA given, and a certificate the workers cannot trust, or one for another name,
// fails each task at the handshake with a reason that says so.
#include "actors/transport/job_queue.hpp"
#include "tests/gateway/mesh_fixture.hpp"
#include "tests/support/tls_proxy.hpp"

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace testing; // the fixture's names

class openai_backend_test : public mesh_fixture {
protected:
  // A coordinator on its own Redis, and one openai-backed worker per role calling `url`.
  void start_client_mesh(const std::string& url, const std::string& ca_file = "") {
    client_workers_.clear();
    for (auto& e : client_endpoints_) e = "tcp://127.0.0.1:" + std::to_string(free_port());
    client_coordinator_ = std::make_unique<child_process>(
        std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-coordinator",
                                 "--redis-port", std::to_string(client_redis_.port()),
                                 "--redis-password", client_redis_.password(),
                                 "--generator-endpoint", client_endpoints_[0],
                                 "--verifier-endpoint", client_endpoints_[1],
                                 "--meta-verifier-endpoint", client_endpoints_[2]},
        dir_.str("client-coordinator.log"));
    write_file(dir_.str("openai.key"), "key-completions-only\n");
    const char* roles[] = {"generator", "verifier", "meta_verifier"};
    const char* models[] = {"proofmesh-generator", "proofmesh-verifier", "proofmesh-meta-verifier"};
    for (int i = 0; i < 3; ++i) {
      const std::string id = std::string("client-") + roles[i];
      std::vector<std::string> argv = {std::string(PM_BUILD_DIR) + "/proofmesh-worker", "--role",
                                       roles[i], "--coordinator", client_endpoints_[i],
                                       "--backend", "openai", "--url", url, "--model", models[i],
                                       "--api-key-file", dir_.str("openai.key"), "--slots", "4",
                                       "--max-retries", "1", "--request-timeout-seconds", "60",
                                       "--worker-id", id};
      if (!ca_file.empty()) {
        argv.push_back("--ca-file");
        argv.push_back(ca_file);
      }
      client_workers_.push_back(std::make_unique<child_process>(argv, dir_.str(id + ".log")));
    }
  }

  json run_job(const json& job, std::chrono::seconds limit) {
    transport::redis_client redis({.port = client_redis_.port(),
                                   .password = client_redis_.password()});
    transport::job_queue queue(redis, {.consumer = "test"});
    queue.add(job.dump());
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      transport::redis_reply r = redis.command({"GET", "job:" + job["id"].get<std::string>() +
                                                           ":result"});
      if (!r.is_nil()) return json::parse(r.str);
      std::this_thread::sleep_for(50ms);
    }
    return nullptr;
  }

  static void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  redis_server client_redis_;
  std::array<std::string, 3> client_endpoints_;
  std::unique_ptr<child_process> client_coordinator_;
  std::vector<std::unique_ptr<child_process>> client_workers_;
};

// A quick job of one problem: 3 proofs, 2 verifications each, one round.
json quick_job(const std::string& id) {
  return {{"id", id},
          {"problems", {{{"question", "Prove that 2 is even."}, {"problem_idx", "even"}}}},
          {"strategy", "quick"},
          {"params", {{"num_proofs", 3}, {"verifications_per_proof", 2}, {"max_rounds", 1},
                      {"max_tokens", 64}, {"verify_max_tokens", 64}}}};
}

// What the scripted models make of quick_job through an OpenAI endpoint (reasoning split at
// </think> by the gateway, then rebuilt around <think> tags by the worker): 3 proofs, 6 ratings
// of 0.5, each meta-verified.
void expect_scripted_counts(const json& p) {
  EXPECT_EQ(p["counts"]["proofs"], 3) << p.dump();
  EXPECT_EQ(p["counts"]["ratings"], 6);
  EXPECT_EQ(p["counts"]["meta_ratings"], 6);
  EXPECT_EQ(p["best"]["proof"], scripted_solution);
  EXPECT_EQ(p["best"]["meanscore"], 0.5);
  EXPECT_EQ(p["meta_verification"]["agreement"], 1.0);
}

TEST_F(openai_backend_test, a_job_runs_end_to_end_against_the_gateways_openai_endpoint) {
  start_gateway();
  start_mesh();
  start_client_mesh("http://127.0.0.1:" + std::to_string(port_));
  const json result = run_job(quick_job("through-openai"), 300s);
  ASSERT_FALSE(result.is_null()) << log("client-coordinator") << log("client-generator");
  expect_scripted_counts(result["problems"][0]);
  // Each of those 15 tasks was a request to the first mesh's OpenAI endpoint (a request that
  // came before the first mesh's workers had registered got a 503 and was sent again).
  transport::redis_client redis({.port = redis_.port(), .password = redis_.password()});
  EXPECT_GE(redis.command({"XLEN", "completions"}).integer, 15);
}

TEST_F(openai_backend_test, a_server_that_cannot_be_reached_ends_in_dead_letters_with_reasons) {
  start_client_mesh("http://127.0.0.1:" + std::to_string(free_port()));
  const json job = {{"id", "nobody-home"},
                    {"problems", {{{"question", "Prove that 1 = 1."}}}},
                    {"strategy", "quick"},
                    {"params", {{"num_proofs", 2}, {"max_rounds", 1}, {"max_attempts", 2},
                                {"empty_round_retries", 0}}}};
  const json result = run_job(job, 120s);
  ASSERT_FALSE(result.is_null()) << log("client-coordinator") << log("client-generator");
  const json& p = result["problems"][0];
  EXPECT_EQ(p["status"], "failed");
  EXPECT_EQ(p["counts"]["dead_lettered"], 2);
  ASSERT_EQ(p["dead_letters"].size(), 2u);
  const std::string reason = p["dead_letters"][0]["reason"];
  EXPECT_NE(reason.find("connect"), std::string::npos) << reason;
  EXPECT_NE(reason.find("after 2 tries"), std::string::npos) << reason; // the worker retried
  EXPECT_NE(p["reason"].get<std::string>().find("dead-lettered 2"), std::string::npos);
}

TEST_F(openai_backend_test, a_job_runs_over_https_with_the_certificate_verified) {
  ASSERT_TRUE(make_test_certificate(dir_.path(), "local", "localhost"));
  start_gateway();
  start_mesh();
  tls_proxy proxy(dir_.str("local.crt"), dir_.str("local.key"), port_);
  start_client_mesh("https://localhost:" + std::to_string(proxy.port()), dir_.str("local.crt"));
  const json result = run_job(quick_job("through-https"), 300s);
  ASSERT_FALSE(result.is_null()) << log("client-coordinator") << log("client-generator");
  expect_scripted_counts(result["problems"][0]);
}

TEST_F(openai_backend_test, an_untrusted_certificate_or_another_name_fails_with_a_clear_error) {
  ASSERT_TRUE(make_test_certificate(dir_.path(), "local", "localhost"));
  ASSERT_TRUE(make_test_certificate(dir_.path(), "stranger", "localhost"));
  ASSERT_TRUE(make_test_certificate(dir_.path(), "elsewhere", "elsewhere.example"));
  start_gateway();
  struct tls_case {
    std::string what, served, trusted, why;
  };
  // Served "local", trusted "stranger": a CA the workers do not trust. Served and trusted
  // "elsewhere": a good chain, for the wrong name.
  for (const tls_case& c : {tls_case{"untrusted", "local", "stranger", "self-signed certificate"},
                            tls_case{"wrong name", "elsewhere", "elsewhere", "hostname mismatch"}}) {
    tls_proxy proxy(dir_.str(c.served + ".crt"), dir_.str(c.served + ".key"), port_);
    start_client_mesh("https://localhost:" + std::to_string(proxy.port()),
                      dir_.str(c.trusted + ".crt"));
    json job = quick_job("tls-" + c.served);
    job["params"] = {{"num_proofs", 1}, {"max_rounds", 1}, {"max_attempts", 1},
                     {"empty_round_retries", 0}};
    const json result = run_job(job, 120s);
    ASSERT_FALSE(result.is_null()) << c.what << log("client-generator");
    const json& p = result["problems"][0];
    EXPECT_EQ(p["status"], "failed") << c.what;
    ASSERT_EQ(p["dead_letters"].size(), 1u) << c.what << p.dump();
    const std::string reason = p["dead_letters"][0]["reason"];
    std::cerr << c.what << ": " << reason << "\n"; // what a user reads in the result
    EXPECT_NE(reason.find("TLS handshake with localhost"), std::string::npos) << c.what << reason;
    EXPECT_NE(reason.find("certificate verify failed (" + c.why + ")"), std::string::npos)
        << c.what << reason;
  }
}

} // namespace
} // namespace proofmesh
