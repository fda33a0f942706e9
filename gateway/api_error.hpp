// An error the HTTP API answers with: an HTTP status, a stable machine-readable code and a
// one-line message, sent as {"error": {"code": ..., "message": ...}}. Rules of the road: codes
// are part of the API (clients branch on them) and never change meaning; the message is for
// people and may be reworded; "type" (invalid_request_error or server_error) and "param" are
// there for OpenAI clients. The codes:
//   400 invalid_json, invalid_request     401 missing_api_key, invalid_api_key
//   403 forbidden                         404 not_found, job_not_found, model_not_found
//   405 method_not_allowed                409 job_not_finished, job_finished
//   413 body_too_large                    429 queue_full (with Retry-After)
//   431 headers_too_large                 500 internal
//   503 redis_unavailable, too_many_streams, no_workers, coordinator_lost (with Retry-After)
//   500 completion_failed (a completion failed on every attempt)
#pragma once

#include <stdexcept>
#include <string>

namespace proofmesh::gateway {

class api_error : public std::runtime_error {
public:
  api_error(int status, std::string code, const std::string& message, int retry_after_s = 0)
      : std::runtime_error(message), status_(status), code_(std::move(code)),
        retry_after_s_(retry_after_s) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  /// Seconds for a Retry-After header; 0: none.
  int retry_after_s() const { return retry_after_s_; }

private:
  int status_;
  std::string code_;
  int retry_after_s_;
};

/// {"error": {"code", "message", "type", "param": null}}, invalid UTF-8 in the message replaced.
std::string error_body(const std::string& code, const std::string& message);

} // namespace proofmesh::gateway
