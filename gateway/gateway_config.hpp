// proofmesh-gateway's configuration: flags, or a TOML/INI file (--config) that flags override,
// all checked before anything binds a port or connects.
#pragma once

#include "gateway/http_server.hpp"
#include "gateway/job_store.hpp"

#include <string>

namespace proofmesh::gateway {

struct gateway_config {
  http_server_params http;
  std::string redis_host = "127.0.0.1";
  int redis_port = 6379;
  std::string redis_password;
  std::string api_keys_file;    // the hashed keys; required unless allow_anonymous
  bool allow_anonymous = false;
  job_store_params jobs;
  bool split_reasoning = true; // --reasoning-parser deepseek_r1 | none
  size_t max_streams = 4096;
  size_t max_streams_per_tenant = 512;
  std::string ui_dir;   // the dashboard's files; "" : beside the binary (ui_files.hpp)
  std::string katex_dir = "/usr/share/javascript/katex"; // Debian's libjs-katex
};

gateway_config parse_gateway_config(int argc, char** argv, bool& help, std::string& help_text);

} // namespace proofmesh::gateway
