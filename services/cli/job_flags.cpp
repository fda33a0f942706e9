#include "services/cli/job_flags.hpp"

#include "actors/common/error.hpp"
#include "actors/common/names.hpp"

#include <cstdlib>

namespace proofmesh::cli {

namespace pt = proofmesh::transport;

gateway_target job_flags::target() const {
  const char* env_url = std::getenv("PROOFMESH_GATEWAY");
  const char* env_key = std::getenv("PROOFMESH_API_KEY");
  return parse_gateway_url(
      !gateway.empty() ? gateway : env_url != nullptr ? env_url : "http://127.0.0.1:8080",
      !api_key.empty() ? api_key : env_key != nullptr ? env_key : "");
}

void add_transport_flags(CLI::App& app, job_flags& f) {
  app.add_option("--gateway", f.gateway, "http://host[:port] of the gateway (default local)");
  app.add_option("--api-key", f.api_key, "the gateway's API key (or PROOFMESH_API_KEY)");
  app.add_option("--queue", f.queue, "redis://[:password@]host[:port]: skip the gateway");
}

pt::redis_client_params parse_queue_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    throw input_error("--queue must look like redis://[:password@]host[:port]");
  }
  std::string rest = url.substr(scheme.size());
  pt::redis_client_params p{.max_attempts = 3};
  if (const char* env = std::getenv("PROOFMESH_REDIS_PASSWORD")) {
    p.password = env;
  }
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    p.password = auth.rfind(':', 0) == 0 ? auth.substr(1) : auth;
    rest = rest.substr(at + 1);
  }
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    rest = rest.substr(0, slash);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      throw input_error("--queue: bad port \"" + port + "\"");
    }
    p.port = std::stoi(port);
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) {
    p.host = rest;
  }
  return p;
}

std::string with_job_id(const std::string& id) {
  if (!is_name(id)) {
    throw input_error("a job id is 1 to 64 of [A-Za-z0-9_-]");
  }
  return id;
}

} // namespace proofmesh::cli
