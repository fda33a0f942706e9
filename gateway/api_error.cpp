#include "gateway/api_error.hpp"

#include <nlohmann/json.hpp>

namespace proofmesh::gateway {

std::string error_body(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace proofmesh::gateway
