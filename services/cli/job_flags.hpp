// The flags every job command shares (submit, status, result, export): where the job lives and
// how to reach it. Rules of the road: the REST gateway by default (--gateway or
// PROOFMESH_GATEWAY, default http://127.0.0.1:8080; --api-key or PROOFMESH_API_KEY); straight to
// Redis with --queue redis://[:PASSWORD@]HOST[:PORT] (PROOFMESH_REDIS_PASSWORD also sets the
// password). A bad URL or job id is an input_error (exit 2).
#pragma once

#include "actors/transport/redis_client.hpp"
#include "services/cli/gateway_client.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace proofmesh::cli {

struct job_flags {
  std::string queue; // non-empty: straight to Redis
  std::string gateway;
  std::string api_key;
  std::string file;
  std::string id;
  std::string strategy;
  std::vector<std::string> params; // KEY=VALUE, VALUE in JSON (a bare word is a string)
  std::string idempotency_key;     // submit: the same key names the same job
  bool watch = false;
  int32_t num_proofs = 0, verifications = -1, max_tokens = 0;

  bool via_queue() const { return !queue.empty(); }
  gateway_target target() const;
};

void add_transport_flags(CLI::App& app, job_flags& f);

/// redis://[:password@]host[:port][/...] as client parameters.
transport::redis_client_params parse_queue_url(const std::string& url);

/// The id, if it is one we could have issued.
std::string with_job_id(const std::string& id);

} // namespace proofmesh::cli
