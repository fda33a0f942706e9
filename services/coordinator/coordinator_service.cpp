#include "services/coordinator/coordinator_service.hpp"

#include "actors/common/error.hpp"
#include "services/common/service_log.hpp"
#include "services/common/service_main.hpp"
#include "services/coordinator/coordinator_loop.hpp"

#include <CLI/CLI.hpp>

namespace proofmesh::coordinator {

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
  coordinator_loop loop(c);
  loop.run(stop_flag);
  services::service_log({{"service", "coordinator"}, {"consumer", c.consumer}})
      .line("info", "stopped; " + std::to_string(loop.jobs_left()) + " jobs left for reclaim");
  return 0;
}

} // namespace proofmesh::coordinator
