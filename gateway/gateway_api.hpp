// What each path of the gateway does: the jobs API, the operations endpoints, and the
// OpenAI-compatible endpoints. Rules of the road:
// - Every /v1 path authenticates first (api_keys), and every answer is JSON, errors included
//   ({"error": {"code", "message", ...}}, codes in api_error.hpp).
// - The body is parsed once, with nlohmann's strict parser and a nesting cap: malformed JSON,
//   invalid UTF-8 and nesting past 64 are 400 invalid_json; every field is then checked by the
//   code that uses it.
// - Redis being away is 503 redis_unavailable with Retry-After, never a hang or a 500.
// - The OpenAI-compatible endpoints: openai_api.hpp.
// - The jobs API:
//     POST   /v1/jobs               202 {id, status: queued}   (Idempotency-Key: 200 if known)
//     GET    /v1/jobs?limit&before_ms   the tenant's jobs, newest first
//     GET    /v1/jobs/{id}          status and progress
//     GET    /v1/jobs/{id}/result   the result once completed or cancelled (409 before)
//     DELETE /v1/jobs/{id}          202 {id, status: cancelling}
//     GET    /v1/jobs/{id}/events   SSE; resumes after Last-Event-ID (or ?after=)
//     GET    /v1/jobs/{id}/pool/{problem}?after&limit   a page of the pool, by proof id
//     GET    /v1/jobs/{id}/pool/{problem}/scores        its mean scores as a histogram
//   and GET /healthz, /readyz (Redis reachable), /metrics (Prometheus), unauthenticated.
// - The dashboard's files under /ui/ (ui_files.hpp), unauthenticated: the page asks for a key
//   and calls the API with it like any client.
#pragma once

#include "gateway/api_keys.hpp"
#include "gateway/event_hub.hpp"
#include "gateway/http_server.hpp"
#include "gateway/job_store.hpp"
#include "gateway/openai_api.hpp"
#include "gateway/ui_files.hpp"
#include "services/common/metrics.hpp"

namespace proofmesh::gateway {

class gateway_api {
public:
  gateway_api(const api_keys& keys, job_store& jobs, openai_api& openai, const event_hub& hub,
              const ui_files& ui, services::metrics_registry& metrics);

  /// The request handler (runs on the server's blocking pool).
  http_answer operator()(const http_request& req);

private:
  http_answer route(const http_request& req);
  http_answer jobs(const http_request& req, const std::string& rest);
  /// An SSE answer for `tenant`, or 503 too_many_streams, or 204 when nothing will ever come.
  http_answer stream_of(const std::string& tenant, const job_store::event_stream& stream,
                        const std::string& after);

  const api_keys& keys_;
  job_store& jobs_;
  openai_api& openai_;
  const event_hub& hub_;
  const ui_files& ui_;
  services::metrics_registry& metrics_;
  services::metric& submitted_;
  services::metric& refused_full_;
  services::metric& auth_failures_;
  services::metric& streams_;
  services::metric& completions_;
};

} // namespace proofmesh::gateway
