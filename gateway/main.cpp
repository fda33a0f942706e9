// proofmesh-gateway: serves the REST API until SIGTERM.
#include "gateway/gateway_api.hpp"
#include "gateway/gateway_config.hpp"
#include "services/common/service_log.hpp"
#include "services/common/service_main.hpp"

#include <cstdlib>
#include <thread>

#include <unistd.h>

namespace {

using namespace proofmesh;

int serve(const gateway::gateway_config& c, const std::atomic<bool>& stop) {
  // Keys are read before anything listens: a bad file stops start-up with exit code 2.
  const gateway::api_keys keys = c.allow_anonymous ? gateway::api_keys::anonymous()
                                                   : gateway::api_keys::load(c.api_keys_file);
  // HTTP callers should hear "unavailable" in about a second, not after a long backoff.
  const transport::redis_client_params redis{.host = c.redis_host, .port = c.redis_port,
                                             .password = c.redis_password,
                                             .command_timeout = std::chrono::seconds(5),
                                             .max_attempts = 3};
  gateway::redis_pool pool(redis, static_cast<size_t>(c.http.blocking_threads));
  gateway::job_store jobs(pool, c.jobs);
  gateway::event_hub hub({.redis = redis, .max_subscriptions = c.max_streams,
                          .max_per_tenant = c.max_streams_per_tenant});
  services::metrics_registry metrics;
  gateway::openai_api openai(keys, pool, hub,
                             {.split_reasoning = c.split_reasoning,
                              .max_queue_depth = c.jobs.max_queue_depth});
  const gateway::ui_files ui({.ui_dir = c.ui_dir, .katex_dir = c.katex_dir});
  gateway::gateway_api api(keys, jobs, openai, hub, ui, metrics);
  gateway::http_server server(c.http, std::ref(api), hub, metrics);
  const services::service_log log(nlohmann::json{{"service", "gateway"}});
  log.line("info", "listening on " + c.http.host + ":" + std::to_string(server.port()) +
                       (c.allow_anonymous ? " (anonymous)" : ", " + std::to_string(keys.size()) +
                                                                 " API keys") +
                       (ui.size() > 0 ? "; the dashboard at /ui/" : "; no dashboard in " + ui.ui_dir()));
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  log.line("info", "stopping");
  return 0;
}

} // namespace

// The gateway's memory goes back to the system when a burst of connections ends only if
// malloc keeps neither per-thread caches nor per-thread arenas: their pages stay pinned by a
// few cached chunks each (docs/PERFORMANCE.md, "1,000 SSE streams": +35% of idle after 1,000
// streams with them, +5% without). glibc reads its tunables only at start, so the gateway
// starts itself once more with them set, unless the operator's environment already says.
void without_thread_caches(char** argv) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1", 1);
  ::execv("/proc/self/exe", argv); // returns only on failure: then run as we are
  ::unsetenv("GLIBC_TUNABLES");
}

int main(int argc, char** argv) {
  without_thread_caches(argv);
  return services::service_main("proofmesh-gateway", argc, argv,
                                gateway::parse_gateway_config, serve);
}
