#include "gateway/job_store.hpp"

#include "actors/common/error.hpp"
#include "actors/common/names.hpp"
#include "actors/common/random_hex.hpp"
#include "actors/common/unix_time.hpp"
#include "actors/pipeline/job_request.hpp"
#include "gateway/api_error.hpp"
#include "gateway/api_keys.hpp"
#include "actors/transport/redis_keys.hpp"

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::gateway {

using enum transport::api_code;

namespace {

using nlohmann::json;
namespace pt = proofmesh::transport;

pt::redis_reply checked(pt::redis_reply r, const char* what) {
  if (r.is_error()) throw pt::redis_unavailable(std::string(what) + ": " + r.str);
  return r;
}

int64_t to_int(const pt::redis_reply& r) {
  if (r.is_nil() || r.str.empty()) return 0;
  try {
    return std::stoll(r.str);
  } catch (const std::exception&) {
    return 0;
  }
}

bool terminal(const std::string& status) { return status == "completed" || status == "cancelled"; }

} // namespace

job_store::record job_store::owned(redis_connection& c, const std::string& tenant,
                                   const std::string& id) {
  if (!is_name(id)) { // only ids we could have issued reach Redis
    throw api_error(api_code_job_not_found, "no job " + id);
  }
  pt::redis_reply r = checked(c.client.command({"HMGET", keys::job(id), "tenant", "status",
                                                "created_ms", "problems", "cancel_requested"}),
                              "HMGET job");
  if (r.elements.size() != 5 || r.elements[0].is_nil() || r.elements[0].str != tenant) {
    throw api_error(api_code_job_not_found, "no job " + id); // another tenant's looks the same
  }
  return {.status = r.elements[1].str, .created_ms = to_int(r.elements[2]),
          .problems = to_int(r.elements[3]), .cancel_requested = !r.elements[4].is_nil()};
}

submit_outcome job_store::submit(const std::string& tenant, const json& body,
                                 const std::string& idempotency_key) {
  json job;
  try {
    job = pipeline::job_from_json(body);
  } catch (const input_error& e) {
    throw api_error(api_code_invalid_request, e.what());
  }
  if (job.contains("id")) {
    throw api_error(api_code_invalid_request,
                    "id is assigned by the gateway (send an Idempotency-Key header instead)");
  }
  if (idempotency_key.size() > 256) {
    throw api_error(api_code_invalid_request, "Idempotency-Key is limited to 256 bytes");
  }
  std::string id = "job-" + random_hex(32);
  if (!idempotency_key.empty()) {
    // Built with += : GCC 12 reports a false -Wrestrict on the operator+ chain.
    std::string seed = tenant;
    seed += '\n';
    seed += idempotency_key;
    id = "job-";
    id += sha256_hex(seed).substr(0, 32);
  }
  job["id"] = id;
  const std::string text = job.dump();
  pipeline::job_spec spec;
  try {
    spec = pipeline::parse_job_spec(text, params_.limits);
  } catch (const input_error& e) {
    throw api_error(api_code_invalid_request, e.what());
  }

  redis_pool::lease c = pool_.acquire();
  const auto never = pt::redis_retry::redis_retry_never;
  const std::string key = keys::job(id);
  auto exists = [&] { return checked(c->client.command({"EXISTS", key}), "EXISTS").integer == 1; };
  if (!idempotency_key.empty() && exists()) { // a repeat names its job, full queue or not
    return {.id = id, .created = false};
  }
  if (depth_.get(c->jobs()) >= params_.max_queue_depth) {
    throw api_error(api_code_queue_full,
                    "the queue holds " + std::to_string(params_.max_queue_depth) +
                        " jobs; try again later",
                    5);
  }
  // From WATCH to EXEC nothing may reconnect behind our back (a new connection forgets the
  // WATCH and would commit unconditionally): every command here runs without retry, and a
  // reconnect count that moved aborts the submit as unavailable.
  const int64_t reconnects = c->client.num_reconnects();
  bool in_multi = false;
  try {
    if (!idempotency_key.empty()) {
      checked(c->client.command({"WATCH", key}, never), "WATCH");
      if (checked(c->client.command({"EXISTS", key}, never), "EXISTS").integer == 1) {
        c->client.command({"UNWATCH"}, never);
        return {.id = id, .created = false};
      }
    }
    const std::string created = std::to_string(unix_ms());
    checked(c->client.command({"MULTI"}, never), "MULTI");
    in_multi = true;
    c->client.command({"HSET", key, "tenant", tenant, "status", "queued", "created_ms", created,
                       "problems", std::to_string(spec.problems.size())},
                      never);
    c->client.command({"ZADD", keys::tenant_jobs(tenant), created, id}, never);
    c->client.command({"XADD", key + ":events", "MAXLEN", "~", "10000", "*", "event",
                       R"({"type": "queued"})"},
                      never);
    c->client.command({"XADD", keys::jobs, "*", "v", transport::job_format_version, "job", text},
                      never);
    if (c->client.num_reconnects() != reconnects) {
      throw pt::redis_unavailable("the connection to Redis was lost during the submit");
    }
    pt::redis_reply done = checked(c->client.command({"EXEC"}, never), "EXEC");
    in_multi = false;
    if (done.is_nil()) { // the watched key appeared: a concurrent submit with the same key won
      return {.id = id, .created = false};
    }
    for (const pt::redis_reply& step : done.elements) checked(step, "EXEC step");
    depth_.added();
  } catch (const pt::redis_unavailable&) {
    // Leave the pooled connection clean: no open MULTI, no WATCH for the next lease.
    try {
      c->client.command({in_multi ? "DISCARD" : "UNWATCH"}, never);
    } catch (const pt::redis_unavailable&) {
    }
    throw;
  }
  return {.id = id, .created = true};
}

json job_store::status(const std::string& tenant, const std::string& id) {
  redis_pool::lease c = pool_.acquire();
  record r = owned(*c, tenant, id);
  const int64_t done = checked(c->client.command({"HLEN", keys::job_ledger(id)}), "HLEN").integer;
  return {{"id", id},
          {"status", r.status},
          {"created_at_ms", r.created_ms},
          {"problems", r.problems},
          {"tasks_done", done},
          {"cancel_requested", r.cancel_requested}};
}

std::string job_store::result(const std::string& tenant, const std::string& id) {
  redis_pool::lease c = pool_.acquire();
  record r = owned(*c, tenant, id);
  if (!terminal(r.status)) {
    throw api_error(api_code_job_not_finished, "job " + id + " is " + r.status);
  }
  pt::redis_reply text = checked(c->client.command({"GET", keys::job_result(id)}), "GET");
  if (text.is_nil()) {
    throw api_error(api_code_job_not_finished, "job " + id + " has no result yet");
  }
  return text.str;
}

std::string job_store::spec(const std::string& tenant, const std::string& id) {
  redis_pool::lease c = pool_.acquire();
  owned(*c, tenant, id);
  pt::redis_reply text = checked(c->client.command({"HGET", keys::job(id), "spec"}), "HGET");
  if (text.is_nil()) {
    throw api_error(api_code_job_not_started, "job " + id + " has not been taken up yet");
  }
  return text.str;
}

json job_store::pool(const std::string& tenant, const std::string& id, const std::string& problem,
                     int64_t after, int64_t limit) {
  if (!is_name(problem, true)) {
    throw api_error(api_code_problem_not_found, "no problem " + problem + " in job " + id);
  }
  redis_pool::lease c = pool_.acquire();
  owned(*c, tenant, id);
  const std::string key = keys::job_pool(id, problem);
  const int64_t total = checked(c->client.command({"HLEN", key}), "HLEN").integer;
  // Proof ids run 1..total without gaps: a page is one HMGET of the next ids.
  std::vector<std::string> args = {"HMGET", key};
  for (int64_t i = after + 1; i <= std::min(total, after + limit); ++i) {
    args.push_back(std::to_string(i));
  }
  json proofs = json::array();
  if (args.size() > 2) {
    for (const pt::redis_reply& r : checked(c->client.command(args), "HMGET").elements) {
      if (!r.is_nil()) proofs.push_back(json::parse(r.str, nullptr, false));
    }
  }
  json out = {{"problem", problem}, {"total", total}, {"proofs", proofs}};
  if (after + limit < total) out["next_after"] = after + limit;
  return out;
}

json job_store::pool_scores(const std::string& tenant, const std::string& id,
                            const std::string& problem) {
  if (!is_name(problem, true)) {
    throw api_error(api_code_problem_not_found, "no problem " + problem + " in job " + id);
  }
  redis_pool::lease c = pool_.acquire();
  owned(*c, tenant, id);
  const std::string key = keys::job_pool(id, problem) + ":ranked";
  json bins = json::array();
  int64_t total = 0;
  auto count = [&](const std::string& lo, const std::string& hi) {
    return checked(c->client.command({"ZCOUNT", key, lo, hi}), "ZCOUNT").integer;
  };
  for (int k = 0; k < 10; ++k) {
    std::string below = "("; // exclusive; built with += (GCC 12's false -Wrestrict on +)
    below += std::to_string((k + 1) / 10.0);
    const int64_t n = count(std::to_string(k / 10.0), below);
    bins.push_back({{"from", k / 10.0}, {"to", (k + 1) / 10.0}, {"count", n}});
    total += n;
  }
  const int64_t solved = count("1", "1");
  bins.push_back({{"from", 1.0}, {"to", 1.0}, {"count", solved}});
  return {{"problem", problem}, {"total", total + solved}, {"bins", bins}};
}

json job_store::cancel(const std::string& tenant, const std::string& id) {
  redis_pool::lease c = pool_.acquire();
  record r = owned(*c, tenant, id);
  if (terminal(r.status)) {
    throw api_error(api_code_job_finished, "job " + id + " is already " + r.status);
  }
  // Each write is idempotent, so the retrying client is fine here: a repeated DELETE repeats them.
  checked(c->client.command({"HSET", keys::job(id), "cancel_requested", std::to_string(unix_ms())}),
          "HSET");
  checked(c->client.command({"SADD", keys::jobs_cancel, id}), "SADD");
  // It may have finished since we looked; then nobody will take the request out of the set.
  const std::string now = checked(c->client.command({"HGET", keys::job(id), "status"}), "HGET").str;
  if (terminal(now)) {
    checked(c->client.command({"SREM", keys::jobs_cancel, id}), "SREM");
    throw api_error(api_code_job_finished, "job " + id + " is already " + now);
  }
  if (!r.cancel_requested) {
    checked(c->client.command({"XADD", keys::job_events(id), "MAXLEN", "~", "10000", "*",
                               "event", R"({"type": "cancel_requested"})"}),
            "XADD");
  }
  return {{"id", id}, {"status", "cancelling"}};
}

json job_store::list(const std::string& tenant, int64_t limit, int64_t before_ms) {
  limit = std::clamp<int64_t>(limit, 1, params_.max_list);
  redis_pool::lease c = pool_.acquire();
  const std::string max = before_ms > 0 ? "(" + std::to_string(before_ms) : "+inf";
  pt::redis_reply ids = checked(
      c->client.command({"ZREVRANGEBYSCORE", keys::tenant_jobs(tenant), max, "-inf",
                         "WITHSCORES", "LIMIT", "0", std::to_string(limit)}),
      "ZREVRANGEBYSCORE");
  json data = json::array();
  int64_t last = 0;
  for (size_t i = 0; i + 1 < ids.elements.size(); i += 2) {
    const std::string& id = ids.elements[i].str;
    last = to_int(ids.elements[i + 1]);
    pt::redis_reply st =
        checked(c->client.command({"HMGET", keys::job(id), "status", "problems"}), "HMGET");
    const int64_t done =
        checked(c->client.command({"HLEN", keys::job_ledger(id)}), "HLEN").integer;
    data.push_back({{"id", id},
                    {"status", st.elements.size() == 2 ? st.elements[0].str : ""},
                    {"created_at_ms", last},
                    {"problems", st.elements.size() == 2 ? to_int(st.elements[1]) : 0},
                    {"tasks_done", done}});
  }
  json out = {{"data", data}};
  if (static_cast<int64_t>(data.size()) == limit) out["next_before_ms"] = last;
  return out;
}

job_store::event_stream job_store::events(const std::string& tenant, const std::string& id,
                                          const std::string& after) {
  redis_pool::lease c = pool_.acquire();
  record r = owned(*c, tenant, id);
  event_stream out{.key = keys::job_events(id)};
  if (terminal(r.status) && after != "0") {
    // A client resuming after the last event of a finished job would wait forever.
    pt::redis_reply last =
        checked(c->client.command({"XREVRANGE", out.key, "+", "-", "COUNT", "1"}), "XREVRANGE");
    out.ended = !last.elements.empty() && !last.elements[0].elements.empty() &&
                last.elements[0].elements[0].str == after;
  }
  return out;
}

bool job_store::ready() {
  try {
    redis_pool::lease c = pool_.acquire();
    // What a submit needs: the queue's depth answers (and the stream and group are made again
    // if Redis came back empty).
    c->jobs().depth();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace proofmesh::gateway
