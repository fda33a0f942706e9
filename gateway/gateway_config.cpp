#include "gateway/gateway_config.hpp"

#include "actors/common/error.hpp"
#include "services/common/service_main.hpp"

#include <CLI/CLI.hpp>

namespace proofmesh::gateway {

namespace {

template <typename T>
void check_range(const char* flag, T value, T lo, T hi) {
  if (value < lo || value > hi) {
    throw input_error(std::string(flag) + " must be in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
  }
}

} // namespace

gateway_config parse_gateway_config(int argc, char** argv, bool& help, std::string& help_text) {
  gateway_config c;
  CLI::App app{"proofmesh-gateway: the REST API of the mesh (jobs, events, OpenAI-compatible)"};
  app.set_config("--config", "", "a TOML or INI file with these options; flags override it");
  app.add_option("--host", c.http.host, "address to listen on");
  app.add_option("--port", c.http.port, "port to listen on");
  app.add_option("--redis-host", c.redis_host);
  app.add_option("--redis-port", c.redis_port);
  // The environment keeps the password off the command line, which /proc shows everyone.
  app.add_option("--redis-password", c.redis_password, "or PROOFMESH_REDIS_PASSWORD")
      ->envname("PROOFMESH_REDIS_PASSWORD");
  app.add_option("--api-keys", c.api_keys_file, "JSON file of hashed API keys and their tenants");
  app.add_flag("--allow-anonymous", c.allow_anonymous,
               "no API keys: every caller is tenant \"default\" (local use only)");
  app.add_option("--max-queue-depth", c.jobs.max_queue_depth,
                 "jobs (and, apart, completions) waiting or running before a POST answers 429");
  app.add_option("--max-body-bytes", c.http.max_body_bytes, "largest request body");
  app.add_option("--max-connections", c.http.max_connections, "open connections at most");
  std::string reasoning = "deepseek_r1";
  app.add_option("--reasoning-parser", reasoning,
                 "deepseek_r1: chat answers split reasoning_content at </think>; none: raw");
  app.add_option("--max-streams", c.max_streams, "open SSE streams at most");
  app.add_option("--max-streams-per-tenant", c.max_streams_per_tenant,
                 "open SSE streams at most per tenant");
  app.add_option("--ui-dir", c.ui_dir, "the dashboard's files (default: ui beside the binary)");
  app.add_option("--katex-dir", c.katex_dir, "KaTeX for the dashboard (Debian's libjs-katex)");
  app.add_option("--io-threads", c.http.io_threads, "threads running sockets");
  app.add_option("--blocking-threads", c.http.blocking_threads,
                 "threads running handlers (and Redis connections)");
  help = !services::parse_flags(app, argc, argv, help_text);
  if (help) return c;
  check_range("--port", c.http.port, 0, 65535);
  check_range("--redis-port", c.redis_port, 1, 65535);
  check_range<int64_t>("--max-queue-depth", c.jobs.max_queue_depth, 1, int64_t{1} << 32);
  check_range<size_t>("--max-body-bytes", c.http.max_body_bytes, 1024, size_t{1} << 30);
  check_range<size_t>("--max-connections", c.http.max_connections, 1, 1000000);
  check_range<size_t>("--max-streams", c.max_streams, 1, 1000000);
  check_range<size_t>("--max-streams-per-tenant", c.max_streams_per_tenant, 1, 1000000);
  check_range("--io-threads", c.http.io_threads, 1, 256);
  check_range("--blocking-threads", c.http.blocking_threads, 1, 1024);
  if (reasoning != "deepseek_r1" && reasoning != "none") {
    throw input_error("--reasoning-parser must be deepseek_r1 or none");
  }
  c.split_reasoning = reasoning == "deepseek_r1";
  if (c.api_keys_file.empty() == !c.allow_anonymous) {
    throw input_error("give exactly one of --api-keys FILE and --allow-anonymous");
  }
  return c;
}

} // namespace proofmesh::gateway
