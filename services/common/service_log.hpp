// Structured logs of the mesh's processes: one JSON object per line on stderr, with the
// process's identifying fields first, then level and message. The JSON library escapes the
// text, so a message with quotes or newlines stays one valid line.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

namespace proofmesh::services {

class service_log {
public:
  /// `identity`: the fields every line carries, e.g. {"service": "worker", "worker": "v-0"}.
  explicit service_log(nlohmann::json identity) : identity_(std::move(identity)) {}

  void line(const char* level, const std::string& message) const {
    nlohmann::json out = identity_;
    out["level"] = level;
    out["message"] = message;
    std::fprintf(stderr, "%s\n",
                 out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }

private:
  nlohmann::json identity_;
};

} // namespace proofmesh::services
