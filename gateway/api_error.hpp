// An error the HTTP API answers with: a stable machine-readable code (transport/api_code.hpp,
// which fixes its HTTP status) and a one-line message, sent as {"error": {"code": ...,
// "message": ...}}. Rules of the road: codes are part of the API (clients branch on them) and
// never change meaning; the message is for people and may be reworded; "type"
// (invalid_request_error or server_error) and "param" are there for OpenAI clients.
#pragma once

#include "actors/transport/api_code.hpp"

#include <stdexcept>
#include <string>

namespace proofmesh::gateway {

class api_error : public std::runtime_error {
public:
  api_error(transport::api_code code, const std::string& message, int retry_after_s = 0)
      : std::runtime_error(message), code_(code), retry_after_s_(retry_after_s) {}

  int status() const { return transport::api_code_status(code_); }
  transport::api_code code() const { return code_; }
  /// Seconds for a Retry-After header; 0: none.
  int retry_after_s() const { return retry_after_s_; }

private:
  transport::api_code code_;
  int retry_after_s_;
};

/// {"error": {"code", "message", "type", "param": null}}, invalid UTF-8 in the message replaced.
std::string error_body(transport::api_code code, const std::string& message);

} // namespace proofmesh::gateway
