// Structured logs of the mesh's processes: one JSON object per line on stderr: the process's
// identifying fields, level, message and time (UTC, RFC 3339 with milliseconds, so lines of
// several processes interleave in order). The JSON library escapes the text, so a message with
// quotes or newlines stays one valid line.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
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
    out["time"] = utc_now();
    std::fprintf(stderr, "%s\n",
                 out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }

  /// "2026-12-02T07:55:01.123Z".
  static std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char text[24];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms));
    return std::string(text) + millis;
  }

private:
  nlohmann::json identity_;
};

} // namespace proofmesh::services
