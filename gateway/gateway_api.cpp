#include "gateway/gateway_api.hpp"

#include "actors/common/bounded_json.hpp"
#include "gateway/api_error.hpp"
#include "gateway/routes.hpp"

#include <charconv>
#include <optional>

namespace proofmesh::gateway {

using enum transport::api_code;

namespace {

using nlohmann::json;

http_answer json_answer(int status, const json& body) {
  return {.status = status,
          .body = body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

json parse_body(const http_request& req) {
  json body = parse_bounded_json(req.body);
  if (body.is_discarded()) {
    throw api_error(api_code_invalid_json,
                    "the body is not valid JSON (or not valid UTF-8, or nested deeper than 64)");
  }
  return body;
}

int64_t query_int(const http_request& req, const char* name, int64_t fallback, int64_t lo,
                  int64_t hi) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return fallback;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || end != it->second.data() + it->second.size() || v < lo || v > hi) {
    throw api_error(api_code_invalid_request, std::string(name) + " must be an integer in [" +
                                                std::to_string(lo) + ", " + std::to_string(hi) +
                                                "]");
  }
  return v;
}

// A stream entry id "ms-seq" (each a 64-bit number), or "0", rewritten in canonical form:
// anything else would reach XREAD, and one bad id there fails the read of every stream.
std::optional<std::string> canonical_stream_id(const std::string& id) {
  if (id == "0") return id;
  const size_t dash = id.find('-');
  if (dash == std::string::npos) return std::nullopt;
  uint64_t ms = 0, seq = 0;
  auto part = [](std::string_view s, uint64_t& v) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  if (!part(std::string_view(id).substr(0, dash), ms) ||
      !part(std::string_view(id).substr(dash + 1), seq)) {
    return std::nullopt;
  }
  return std::to_string(ms) + "-" + std::to_string(seq);
}

} // namespace

gateway_api::gateway_api(const api_keys& keys, job_store& jobs, openai_api& openai,
                         const event_hub& hub, const ui_files& ui,
                         services::metrics_registry& metrics)
    : keys_(keys), jobs_(jobs), openai_(openai), hub_(hub), ui_(ui), metrics_(metrics),
      submitted_(metrics.counter("proofmesh_gateway_jobs_submitted_total", "jobs queued")),
      refused_full_(metrics.counter("proofmesh_gateway_jobs_refused_total",
                                    "submits refused because the queue was full")),
      auth_failures_(metrics.counter("proofmesh_gateway_auth_failures_total",
                                     "requests refused with 401 or 403")),
      streams_(metrics.gauge("proofmesh_gateway_event_subscriptions",
                             "SSE subscriptions held by the event hub")),
      completions_(metrics.counter("proofmesh_gateway_completions_total",
                                   "OpenAI-compatible completion requests queued")) {}

http_answer gateway_api::operator()(const http_request& req) {
  try {
    return route(req);
  } catch (const transport::redis_unavailable& e) {
    throw api_error(api_code_redis_unavailable, std::string("the job store is unreachable: ") +
                                                  e.what(),
                    1);
  } catch (const api_error& e) {
    if (e.status() == 401 || e.status() == 403) auth_failures_.add();
    if (e.code() == api_code_queue_full) refused_full_.add();
    throw;
  }
}

http_answer gateway_api::route(const http_request& req) {
  const std::string& p = req.path;
  check_route(req.method, p); // the table of routes.hpp: 404 and 405 before any handler
  if (p == "/healthz" || p == "/readyz" || p == "/metrics") {
    // GET /healthz is answered on the server's I/O thread; this is only for completeness.
    if (p == "/healthz") return json_answer(200, {{"status", "ok"}});
    if (p == "/readyz") {
      if (!jobs_.ready()) throw api_error(api_code_redis_unavailable, "Redis does not answer", 1);
      return json_answer(200, {{"status", "ready"}});
    }
    streams_.set(static_cast<int64_t>(hub_.num_subscriptions()));
    return {.body = metrics_.render(), .content_type = "text/plain; version=0.0.4"};
  }
  if (std::optional<http_answer> a = ui_.serve(p)) return *a; // no key: the page asks for one
  if (std::optional<http_answer> a = openai_.route(req)) {
    if (!a->stream_key.empty()) completions_.add();
    return *a;
  }
  if (p == "/v1/jobs" || p.rfind("/v1/jobs/", 0) == 0) {
    return jobs(req, p.size() > 9 ? p.substr(9) : "");
  }
  throw api_error(api_code_not_found, "no such endpoint: " + req.method + " " + p);
}

http_answer gateway_api::stream_of(const std::string& tenant,
                                   const job_store::event_stream& stream,
                                   const std::string& after) {
  if (stream.ended) {
    return {.status = 204}; // the EventSource way to say "do not reconnect"
  }
  if (!hub_.has_room(tenant)) {
    throw api_error(api_code_too_many_streams,
                    "too many open event streams (for this tenant, or in all); close some", 5);
  }
  return {.stream_key = stream.key, .stream_after = after, .stream_tenant = tenant};
}

http_answer gateway_api::jobs(const http_request& req, const std::string& rest) {
  const caller& who = keys_.authenticate(req.authorization, scope_jobs);
  if (rest.empty()) {
    if (req.method == "POST") {
      submit_outcome out = jobs_.submit(who.tenant, parse_body(req), req.idempotency_key);
      if (!out.created) {
        return json_answer(200, jobs_.status(who.tenant, out.id));
      }
      submitted_.add();
      http_answer a = json_answer(202, {{"id", out.id}, {"status", "queued"}});
      a.headers.emplace_back("Location", "/v1/jobs/" + out.id);
      return a;
    }
    if (req.method == "GET") {
      return json_answer(200, jobs_.list(who.tenant, query_int(req, "limit", 50, 1, 1000),
                                         query_int(req, "before_ms", 0, 0, INT64_MAX)));
    }
    throw api_error(api_code_method_not_allowed, "/v1/jobs takes GET or POST");
  }
  const size_t slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string tail = slash == std::string::npos ? "" : rest.substr(slash);
  if (tail.empty()) {
    if (req.method == "GET") return json_answer(200, jobs_.status(who.tenant, id));
    if (req.method == "DELETE") return json_answer(202, jobs_.cancel(who.tenant, id));
    throw api_error(api_code_method_not_allowed, "/v1/jobs/{id} takes GET or DELETE");
  }
  if (tail == "/spec") {
    if (req.method != "GET") throw api_error(api_code_method_not_allowed, tail + " takes GET");
    return {.body = jobs_.spec(who.tenant, id)};
  }
  if (tail.rfind("/pool/", 0) == 0 && tail.ends_with("/scores")) {
    return json_answer(200, jobs_.pool_scores(who.tenant, id, tail.substr(6, tail.size() - 13)));
  }
  if (tail.rfind("/pool/", 0) == 0) {
    if (req.method != "GET") throw api_error(api_code_method_not_allowed, "/pool takes GET");
    return json_answer(200, jobs_.pool(who.tenant, id, tail.substr(6),
                                       query_int(req, "after", 0, 0, INT32_MAX),
                                       query_int(req, "limit", 64, 1, 256)));
  }
  if (tail == "/result" || tail == "/events") {
    if (req.method != "GET") throw api_error(api_code_method_not_allowed, tail + " takes GET");
    if (tail == "/result") {
      return {.body = jobs_.result(who.tenant, id)};
    }
    std::string after = req.last_event_id;
    if (auto it = req.query.find("after"); after.empty() && it != req.query.end()) {
      after = it->second;
    }
    if (after.empty()) after = "0";
    std::optional<std::string> from = canonical_stream_id(after);
    if (!from) {
      throw api_error(api_code_invalid_request, "Last-Event-ID must be an event id we sent");
    }
    return stream_of(who.tenant, jobs_.events(who.tenant, id, *from), *from);
  }
  throw api_error(api_code_not_found, "no such endpoint: " + req.method + " " + req.path);
}

} // namespace proofmesh::gateway
