// The mesh the gateway tests run against: a real redis-server, a real proofmesh-gateway with API
// keys for four tenants (alpha and beta with every scope, gamma with completions only, delta
// with jobs only), and on demand a real coordinator and role workers on scripted models
// (tests/support/scripted_models.hpp) or, for the generator, any model a test names. Test-only.
#pragma once

#include "actors/common/sha256.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/scripted_models.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace proofmesh::testing {

using namespace std::chrono_literals;
using nlohmann::json;

inline const testing::http_headers alpha = {{"Authorization", "Bearer key-alpha"}};
inline const testing::http_headers beta = {{"Authorization", "Bearer key-beta"}};

class mesh_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    std::ofstream(dir_.str("keys.json"))
        << json{{"keys",
                 {{{"tenant", "alpha"}, {"sha256", sha256_hex("key-alpha")}},
                  {{"tenant", "beta"}, {"sha256", sha256_hex("key-beta")}},
                  {{"tenant", "gamma"},
                   {"sha256", sha256_hex("key-completions-only")},
                   {"scopes", {"completions"}}},
                  {{"tenant", "delta"},
                   {"sha256", sha256_hex("key-jobs-only")},
                   {"scopes", {"jobs"}}}}}}
               .dump();
    for (auto& e : endpoints_) e = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
  }

  void start_gateway(int max_queue_depth = 1000, int max_streams_per_tenant = 512) {
    // Ours is up when its own log says it listens on the port: a /healthz alone could be
    // another test's gateway, had a port been taken in between (then: another port).
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = testing::free_port();
      const std::string log_name = "gateway-" + std::to_string(attempt);
      gateway_ = std::make_unique<testing::child_process>(
          std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-gateway", "--host",
                                   "127.0.0.1", "--port", std::to_string(port_), "--redis-port",
                                   std::to_string(redis_.port()), "--redis-password",
                                   redis_.password(), "--api-keys", dir_.str("keys.json"),
                                   "--max-queue-depth", std::to_string(max_queue_depth),
                                   "--max-streams-per-tenant",
                                   std::to_string(max_streams_per_tenant)},
          dir_.str(log_name + ".log"));
      const std::string listening = "listening on 127.0.0.1:" + std::to_string(port_);
      for (int i = 0; i < 500; ++i) {
        if (log(log_name).find(listening) != std::string::npos) {
          gateway_log_ = log_name;
          return;
        }
        if (gateway_->wait_exit(10ms)) break; // could not bind: try another port
      }
    }
    FAIL() << "the gateway did not start: " << log("gateway-4");
  }

  struct mesh_options {
    int generator_slots = 4;
    std::string generator_model; // empty: the scripted one
    bool meta_verifier = true;
  };
  void start_mesh() { start_mesh(mesh_options{}); }

  // The coordinator and one combined worker: every role from one engine on one scripted model.
  void start_combined_mesh(int slots, int metrics_port,
                           engine::model_arch arch = engine::model_arch::model_arch_llama) {
    const std::string model = testing::make_combined_scripted_model(dir_.str("combined"), arch);
    start_coordinator();
    workers_.push_back(std::make_unique<testing::child_process>(
        std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-worker", "--roles",
                                 "generator,verifier,meta_verifier", "--coordinator",
                                 endpoints_[0] + "," + endpoints_[1] + "," + endpoints_[2],
                                 "--model", model, "--slots", std::to_string(slots),
                                 "--metrics-port", std::to_string(metrics_port), "--worker-id",
                                 "combined-0"},
        dir_.str("combined-0.log")));
  }

  void start_coordinator() {
    coordinator_ = std::make_unique<testing::child_process>(
        std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-coordinator",
                                 "--redis-port", std::to_string(redis_.port()),
                                 "--redis-password", redis_.password(), "--generator-endpoint",
                                 endpoints_[0], "--verifier-endpoint", endpoints_[1],
                                 "--meta-verifier-endpoint", endpoints_[2]},
        dir_.str("coordinator.log"));
  }
  void start_mesh(const mesh_options& o) {
    testing::scripted_model_dirs models = testing::make_scripted_models(dir_.str("models"));
    if (!o.generator_model.empty()) models.generator = o.generator_model;
    start_coordinator();
    const std::pair<const char*, int> roles[] = {
        {"generator", 0}, {"verifier", 1}, {"verifier", 1}, {"meta_verifier", 2}};
    const std::string model_of[] = {models.generator, models.verifier, models.meta_verifier};
    for (size_t i = 0; i < (o.meta_verifier ? 4u : 3u); ++i) {
      const std::string id = std::string(roles[i].first) + "-" + std::to_string(i);
      workers_.push_back(std::make_unique<testing::child_process>(
          std::vector<std::string>{std::string(PM_BUILD_DIR) + "/proofmesh-worker", "--role",
                                   roles[i].first, "--coordinator", endpoints_[roles[i].second],
                                   "--model", model_of[roles[i].second], "--slots",
                                   std::to_string(i == 0 ? o.generator_slots : 4), "--worker-id",
                                   id},
          dir_.str(id + ".log")));
    }
  }

  std::string log(const std::string& name) {
    const std::string file = dir_.str((name == "gateway" ? gateway_log_ : name) + ".log");
    return std::filesystem::exists(file) ? testing::read_file(file) : std::string();
  }

  testing::http_reply call(const std::string& method, const std::string& path,
                           const std::string& body = "",
                           const testing::http_headers& headers = alpha) {
    return testing::http_call(port_, method, path, body, headers);
  }

  // Submits and returns the job id (asserting a 202).
  std::string submit(const json& job, const testing::http_headers& headers = alpha) {
    testing::http_reply r = call("POST", "/v1/jobs", job.dump(), headers);
    EXPECT_EQ(r.status, 202) << r.body;
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("id") ? j["id"].get<std::string>() : "";
  }

  json status(const std::string& id) { return json::parse(call("GET", "/v1/jobs/" + id).body); }

  json wait_status(const std::string& id, const std::string& want, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = status(id);
      if (s.value("status", "") == want) break;
      std::this_thread::sleep_for(20ms);
    }
    return s;
  }

  testing::temp_dir dir_;
  testing::redis_server redis_;
  std::array<std::string, 3> endpoints_;
  int port_ = 0;
  std::string gateway_log_ = "gateway-0";
  std::unique_ptr<testing::child_process> gateway_, coordinator_;
  std::vector<std::unique_ptr<testing::child_process>> workers_;
};

// A Redis stream id "ms-seq" as a comparable pair.
inline std::pair<uint64_t, uint64_t> stream_order(const std::string& id) {
  const size_t dash = id.find('-');
  return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

// {"error": {"code": ...}} of a reply, or "" when the body is not such an object.
inline std::string error_code(const testing::http_reply& r) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("code", "");
}

} // namespace proofmesh::testing
