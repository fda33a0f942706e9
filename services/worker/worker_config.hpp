// The role service's configuration: one struct from flags and an optional config file (CLI11's
// TOML/INI `--config FILE`; flags win), checked once at start-up (STYLE.md item 10). Rules of the
// road: every value has a range; a bad one is an input_error naming the flag, and the process
// exits 2 before it touches the model or the network.
#pragma once

#include "actors/engine/runtime/engine_config.hpp"
#include "actors/transport/wire_messages.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace proofmesh::worker {

struct worker_config {
  std::vector<transport::role> roles; // served, from --roles (or --role); one engine for all
  std::vector<std::string> coordinators; // the coordinator's socket of each role, in roles' order,
                                         // e.g. tcp://127.0.0.1:5602
  std::string model;         // model folder; with --backend openai, the server's model name
  std::string templates;     // templates file (default: ours, deploy/templates)
  std::string worker_id;     // default: <role>-<host>-<pid>
  std::string backend = "cpu"; // cpu, cuda, or openai (an OpenAI-compatible server)
  engine::engine_config engine; // cpu and cuda: the engine, from the shared engine flags
  std::string url;             // openai: the server, http://host:port
  std::string ca_file; // openai, https: the CA to trust (PEM); empty: the system store
  std::string api_key;         // openai: from --api-key-file, else PROOFMESH_OPENAI_API_KEY or
                               // OPENAI_API_KEY (never a flag: flags show in `ps`)
  std::chrono::seconds request_timeout{3600}; // openai: one request, the whole answer
  int32_t max_retries = 4;     // openai: tries after the first, on transport errors, 429, 5xx
  int32_t slots = 8;         // tasks held at once, all roles together: the credit budget
  int32_t max_tokens = 131072; // cap on any task's max_tokens: the reference's 128K (the
                               // model's context bounds it further)
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::seconds drain{60}; // on SIGTERM: how long in-flight tasks may take to finish
  int32_t metrics_port = 0;       // GET /metrics and /healthz there; 0: off
};

/// Parses argv (and --config FILE); throws input_error on anything invalid. `help` is set and
/// the config left default when --help was asked for (the usage is in `help_text`).
worker_config parse_worker_config(int argc, char** argv, bool& help, std::string& help_text);

} // namespace proofmesh::worker
