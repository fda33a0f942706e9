#include "services/worker/worker_config.hpp"

#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"

#include <CLI/CLI.hpp>

#include "services/common/engine_flags.hpp"
#include "services/common/service_main.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace proofmesh::worker {

namespace {

// What the flags give before they are checked into a worker_config.
struct raw_flags {
  std::string role;
  std::vector<std::string> roles;
  int64_t heartbeat_ms = 1000, drain_s = 60, timeout_s = 3600;
  std::string key_file;
  services::engine_flags engine;
};

void add_flags(CLI::App& app, worker_config& c, raw_flags& f) {
  app.set_config("--config", "", "a TOML or INI file with these options; flags override it");
  auto* one = app.add_option("--role", f.role, "generator, verifier or meta_verifier");
  app.add_option("--roles", f.roles,
                 "several roles served from one engine and one copy of the weights, e.g. "
                 "generator,verifier,meta_verifier")
      ->delimiter(',')
      ->excludes(one);
  app.add_option("--coordinator", c.coordinators,
                 "the coordinator's socket of each role, in --roles order (comma-separated)")
      ->delimiter(',')
      ->required();
  app.add_option("--model", c.model, "model folder (--backend openai: the server's model name)")
      ->required();
  app.add_option("--templates", c.templates, "prompt templates file (JSON, four templates)");
  app.add_option("--worker-id", c.worker_id, "unique id (default: role-host-pid)");
  services::add_engine_flags(app, f.engine, "cpu, cuda, or openai (an OpenAI-compatible server)");
  app.add_option("--url", c.url, "openai: the server's base, http://host:port or https://...");
  app.add_option("--ca-file", c.ca_file,
                 "openai, https: a PEM file of the CA that signed the server's certificate "
                 "(default: the system's store); verification is always on");
  app.add_option("--api-key-file", f.key_file,
                 "openai: a file holding the API key (else PROOFMESH_OPENAI_API_KEY or "
                 "OPENAI_API_KEY)");
  app.add_option("--request-timeout-seconds", f.timeout_s, "openai: one request (1..86400)");
  app.add_option("--max-retries", c.max_retries, "openai: retries of a failed request (0..20)");
  app.add_option("--slots", c.slots,
                 "tasks held at once, all roles together (1..4096); shared as credit");
  app.add_option("--max-tokens", c.max_tokens, "cap on a task's max_tokens (1..1048576)");
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "heartbeat interval (50..60000)");
  app.add_option("--drain-seconds", f.drain_s, "on SIGTERM, time for in-flight tasks (0..3600)");
  app.add_option("--metrics-port", c.metrics_port, "serve /metrics and /healthz (0: off)");
}

// --role or --roles, each known and named once, with one coordinator socket each.
void check_roles(worker_config& c, raw_flags& f) {
  if (!f.role.empty()) f.roles = {f.role};
  if (f.roles.empty()) throw input_error("give --role R or --roles R1,R2,...");
  for (const std::string& name : f.roles) {
    std::optional<transport::role> r;
    for (transport::role known : {transport::role::role_generator, transport::role::role_verifier,
                                  transport::role::role_meta_verifier}) {
      if (name == transport::role_name(known)) r = known;
    }
    if (!r) {
      throw input_error("--roles: each must be generator, verifier or meta_verifier, got \"" +
                        name + "\"");
    }
    if (std::find(c.roles.begin(), c.roles.end(), *r) != c.roles.end()) {
      throw input_error("--roles names " + name + " twice");
    }
    c.roles.push_back(*r);
  }
  if (c.coordinators.size() != c.roles.size()) {
    throw input_error("--coordinator: give one socket per role (" + std::to_string(c.roles.size()) +
                      "), got " + std::to_string(c.coordinators.size()));
  }
  for (const std::string& endpoint : c.coordinators) {
    if (endpoint.rfind("tcp://", 0) != 0 && endpoint.rfind("ipc://", 0) != 0) {
      throw input_error("--coordinator must be a tcp:// or ipc:// endpoint");
    }
  }
}

// Our engine (a model folder), or an OpenAI-compatible server (its URL, model name and key).
void check_backend(worker_config& c, raw_flags& f) {
  c.backend = f.engine.backend;
  if (c.backend != "cpu" && c.backend != "cuda" && c.backend != "openai") {
    throw input_error("--backend must be cpu, cuda or openai");
  }
  if (c.backend != "openai") {
    c.engine = f.engine.resolve();
    if (!std::filesystem::is_directory(c.model)) {
      throw input_error("--model " + c.model + ": not a folder");
    }
    return;
  }
  if (c.url.empty()) throw input_error("--backend openai needs --url");
  if (!c.ca_file.empty()) {
    if (c.url.rfind("https://", 0) != 0) throw input_error("--ca-file is for an https --url");
    if (!std::filesystem::is_regular_file(c.ca_file)) {
      throw input_error("--ca-file " + c.ca_file + ": not a readable file");
    }
  }
  if (c.model.empty() || c.model.size() > 256) {
    throw input_error("--model must name the server's model (1 to 256 bytes)");
  }
  if (f.timeout_s < 1 || f.timeout_s > 86400) {
    throw input_error("--request-timeout-seconds must be in [1, 86400]");
  }
  if (c.max_retries < 0 || c.max_retries > 20) {
    throw input_error("--max-retries must be in [0, 20]");
  }
  c.request_timeout = std::chrono::seconds(f.timeout_s);
  if (!f.key_file.empty()) {
    c.api_key = read_text_file(f.key_file, 4096);
    c.api_key.erase(c.api_key.find_last_not_of(" \r\n\t") + 1);
  } else if (const char* k = std::getenv("PROOFMESH_OPENAI_API_KEY")) {
    c.api_key = k;
  } else if (const char* k2 = std::getenv("OPENAI_API_KEY")) {
    c.api_key = k2;
  }
}

// Every count and time in its range; the default worker id.
void check_limits(worker_config& c, const raw_flags& f) {
  if (c.slots < 1 || c.slots > 4096) {
    throw input_error("--slots must be in [1, 4096]");
  }
  if (c.slots < static_cast<int32_t>(c.roles.size())) {
    throw input_error("--slots must be at least one per role (" + std::to_string(c.roles.size()) +
                      ")");
  }
  if (c.max_tokens < 1 || c.max_tokens > (1 << 20)) {
    throw input_error("--max-tokens must be in [1, 1048576]");
  }
  if (f.heartbeat_ms < 50 || f.heartbeat_ms > 60000) {
    throw input_error("--heartbeat-ms must be in [50, 60000]");
  }
  if (c.metrics_port < 0 || c.metrics_port > 65535) {
    throw input_error("--metrics-port must be in [0, 65535]");
  }
  if (f.drain_s < 0 || f.drain_s > 3600) {
    throw input_error("--drain-seconds must be in [0, 3600]");
  }
  c.heartbeat = std::chrono::milliseconds(f.heartbeat_ms);
  c.drain = std::chrono::seconds(f.drain_s);
  if (c.worker_id.empty()) {
    std::string name;
    for (transport::role r : c.roles) {
      if (!name.empty()) name += '+';
      name += transport::role_name(r);
    }
    c.worker_id = services::instance_id(c.roles.size() == 3 ? std::string("worker") : name);
  }
  if (c.worker_id.size() > 200) {
    throw input_error("--worker-id must be at most 200 bytes");
  }
}

} // namespace

worker_config parse_worker_config(int argc, char** argv, bool& help, std::string& help_text) {
  worker_config c;
  raw_flags f;
  CLI::App app{"proofmesh-worker: a generator, verifier and/or meta-verifier service"};
  add_flags(app, c, f);
  help = !services::parse_flags(app, argc, argv, help_text);
  if (help) return c;
  check_roles(c, f);
  check_backend(c, f);
  check_limits(c, f);
  return c;
}

} // namespace proofmesh::worker
