// The API's error codes: what clients branch on, in HTTP answers ({"error": {"code"}}) and in
// the error events a coordinator writes for a completion. Rules of the road: a code never
// changes meaning or status; each has one name, one HTTP status and one OpenAI error type, here;
// the message beside it is for people and may be reworded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace proofmesh::transport {

enum class api_code : uint8_t {
  api_code_invalid_json,       // 400: the body is not JSON
  api_code_invalid_request,    // 400: JSON, but not a valid request (names the field)
  api_code_missing_api_key,    // 401
  api_code_invalid_api_key,    // 401
  api_code_forbidden,          // 403: the key's tenant may not do this
  api_code_not_found,          // 404: no such endpoint
  api_code_job_not_found,      // 404
  api_code_problem_not_found,  // 404
  api_code_model_not_found,    // 404: no pool serves the model
  api_code_method_not_allowed, // 405
  api_code_job_not_started,    // 409
  api_code_job_not_finished,   // 409
  api_code_job_finished,       // 409: a finished job cannot be cancelled
  api_code_body_too_large,     // 413
  api_code_queue_full,         // 429, with Retry-After
  api_code_headers_too_large,  // 431
  api_code_cancelled,          // 499: the client went (nobody reads it)
  api_code_internal,           // 500
  api_code_completion_failed,  // 500: a completion failed on every attempt
  api_code_redis_unavailable,  // 503, with Retry-After
  api_code_too_many_streams,   // 503
  api_code_no_workers,         // 503: no worker serves the model now
  api_code_coordinator_lost,   // 503: the coordinator serving it stopped; send it again
  api_code_file_not_found,     // 404: the dashboard has no such file (last: codes only grow)
};

struct api_code_info {
  api_code code;
  const char* name;
  int status;
};

inline constexpr std::array<api_code_info, 24> api_codes = {{
    {api_code::api_code_invalid_json, "invalid_json", 400},
    {api_code::api_code_invalid_request, "invalid_request", 400},
    {api_code::api_code_missing_api_key, "missing_api_key", 401},
    {api_code::api_code_invalid_api_key, "invalid_api_key", 401},
    {api_code::api_code_forbidden, "forbidden", 403},
    {api_code::api_code_not_found, "not_found", 404},
    {api_code::api_code_job_not_found, "job_not_found", 404},
    {api_code::api_code_problem_not_found, "problem_not_found", 404},
    {api_code::api_code_model_not_found, "model_not_found", 404},
    {api_code::api_code_method_not_allowed, "method_not_allowed", 405},
    {api_code::api_code_job_not_started, "job_not_started", 409},
    {api_code::api_code_job_not_finished, "job_not_finished", 409},
    {api_code::api_code_job_finished, "job_finished", 409},
    {api_code::api_code_body_too_large, "body_too_large", 413},
    {api_code::api_code_queue_full, "queue_full", 429},
    {api_code::api_code_headers_too_large, "headers_too_large", 431},
    {api_code::api_code_cancelled, "cancelled", 499},
    {api_code::api_code_internal, "internal", 500},
    {api_code::api_code_completion_failed, "completion_failed", 500},
    {api_code::api_code_redis_unavailable, "redis_unavailable", 503},
    {api_code::api_code_too_many_streams, "too_many_streams", 503},
    {api_code::api_code_no_workers, "no_workers", 503},
    {api_code::api_code_coordinator_lost, "coordinator_lost", 503},
    {api_code::api_code_file_not_found, "file_not_found", 404},
}};

static_assert([] {
  for (size_t i = 0; i < api_codes.size(); ++i) {
    if (static_cast<size_t>(api_codes[i].code) != i) return false;
  }
  return true;
}(), "api_codes lists every code once, in enum order");

inline const api_code_info& api_code_of(api_code c) { return api_codes[static_cast<size_t>(c)]; }
inline const char* api_code_name(api_code c) { return api_code_of(c).name; }
inline int api_code_status(api_code c) { return api_code_of(c).status; }
/// OpenAI's error type: server_error for 5xx, invalid_request_error otherwise.
inline const char* api_code_type(api_code c) {
  return api_code_status(c) >= 500 ? "server_error" : "invalid_request_error";
}
inline std::optional<api_code> parse_api_code(std::string_view name) {
  for (const api_code_info& i : api_codes) {
    if (name == i.name) return i.code;
  }
  return std::nullopt;
}

} // namespace proofmesh::transport
