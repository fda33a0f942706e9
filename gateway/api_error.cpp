#include "gateway/api_error.hpp"

#include <nlohmann/json.hpp>

namespace proofmesh::gateway {

std::string error_body(transport::api_code code, const std::string& message) {
  // "type" and "param" as OpenAI's errors carry them, for clients that read those.
  return nlohmann::json{{"error",
                         {{"code", transport::api_code_name(code)},
                          {"message", message},
                          {"type", transport::api_code_type(code)},
                          {"param", nullptr}}}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace proofmesh::gateway
