// The Grafana dashboard and the KEDA autoscalers name metrics; each must be one our services
// export. A real Redis, gateway, coordinator and worker (a tiny random model) are started, their
// /metrics scraped, and every metric named in deploy/grafana/proofmesh.json and
// deploy/k8s/autoscaling.yaml looked up among the series they expose.
#include "actors/engine/model/model_init.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/source_path.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

namespace proofmesh {
namespace {

using namespace std::chrono_literals;

// Every "proofmesh_..." name in a file.
std::set<std::string> named_in(const std::string& file) {
  const std::string text = testing::read_file(testing::source_path(file));
  std::set<std::string> out;
  const std::regex name("proofmesh_[a-z_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name);
       it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

// The sample names a /metrics page exposes (histograms as their _bucket, _sum and _count).
std::set<std::string> exposed(int port) {
  testing::http_reply r;
  for (int i = 0; i < 200 && r.status != 200; ++i) {
    r = testing::http_get(port, "/metrics");
    if (r.status != 200) std::this_thread::sleep_for(50ms);
  }
  std::set<std::string> out;
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return out;
}

TEST(metrics_names, every_metric_the_dashboard_and_the_autoscalers_name_is_exported) {
  testing::temp_dir dir;
  testing::redis_server redis;
  engine::init_random_model(
      {.arch = engine::model_arch::model_arch_llama, .seed = 3, .out_dir = dir.str("model")});
  ::setenv("PROOFMESH_REDIS_PASSWORD", redis.password().c_str(), 1);
  const int gateway_port = testing::free_port(), coordinator_port = testing::free_port(),
            worker_port = testing::free_port();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_port());
  const std::string bin = PM_BUILD_DIR;
  const std::string redis_port = std::to_string(redis.port());
  testing::child_process gateway({bin + "/proofmesh-gateway", "--port", std::to_string(gateway_port),
                                  "--redis-port", redis_port, "--allow-anonymous"},
                                 dir.str("gateway.log"));
  testing::child_process coordinator(
      {bin + "/proofmesh-coordinator", "--redis-port", redis_port, "--generator-endpoint",
       endpoint, "--verifier-endpoint", "tcp://127.0.0.1:" + std::to_string(testing::free_port()),
       "--meta-verifier-endpoint", "tcp://127.0.0.1:" + std::to_string(testing::free_port()),
       "--metrics-port", std::to_string(coordinator_port)},
      dir.str("coordinator.log"));
  testing::child_process worker({bin + "/proofmesh-worker", "--role", "generator",
                                 "--coordinator", endpoint, "--model", dir.str("model"),
                                 "--metrics-port", std::to_string(worker_port)},
                                dir.str("worker.log"));
  std::set<std::string> all;
  for (int port : {gateway_port, coordinator_port, worker_port}) {
    const std::set<std::string> some = exposed(port);
    EXPECT_FALSE(some.empty()) << "nothing on :" << port;
    all.insert(some.begin(), some.end());
  }
  for (const char* file : {"deploy/grafana/proofmesh.json", "deploy/k8s/autoscaling.yaml"}) {
    const std::set<std::string> names = named_in(file);
    EXPECT_FALSE(names.empty()) << file;
    for (const std::string& name : names) {
      EXPECT_TRUE(all.contains(name)) << file << " names " << name << ", which no service exports";
    }
  }
}

} // namespace
} // namespace proofmesh
