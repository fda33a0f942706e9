#include "gateway/api_error.hpp"

#include <nlohmann/json.hpp>

namespace proofmesh::gateway {

std::string error_body(const std::string& code, const std::string& message) {
  // "type" and "param" as OpenAI's errors carry them, for clients that read those.
  const bool server = code == "internal" || code == "redis_unavailable" ||
                      code == "no_workers" || code == "coordinator_lost" ||
                      code == "completion_failed" || code == "too_many_streams";
  return nlohmann::json{{"error",
                         {{"code", code},
                          {"message", message},
                          {"type", server ? "server_error" : "invalid_request_error"},
                          {"param", nullptr}}}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace proofmesh::gateway
