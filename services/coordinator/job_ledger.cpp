#include "services/coordinator/job_ledger.hpp"

#include "actors/pipeline/task_key.hpp"
#include "actors/transport/redis_keys.hpp"
#include "actors/transport/wire_codec.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;
using nlohmann::json;

namespace {

void require(const pt::redis_reply& r, const char* what) {
  if (r.is_error()) {
    throw pt::redis_unavailable(std::string(what) + ": " + r.str);
  }
}

// An event goes out once per id: the id's mark and the event in one step, so a coordinator that
// dies between them cannot leave one without the other.
constexpr const char* event_once = R"(
if redis.call('HSETNX', KEYS[2], ARGV[1], '1') == 0 then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '10000', '*', 'event', ARGV[2])
return 1)";

std::string fact_json(const pp::search_fact& fact) {
  if (const auto* d = std::get_if<pp::dead_letter>(&fact)) {
    return json{{"fact", "dead_letter"}, {"reason", d->reason}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
  }
  return json{{"fact", "early_stop"}, {"slots", std::get<pp::early_stop>(fact).slots}}.dump();
}

// A fact read back from its field and JSON; null if either is not one.
std::optional<problem_fact> parse_fact(const std::string& field, const std::string& value) {
  const std::optional<pp::task_key> key = pp::task_key::parse(field);
  const json j = json::parse(value, nullptr, false);
  if (!key || !j.is_object() || !j.contains("fact")) return std::nullopt;
  problem_fact out{.job = key->job, .problem = key->problem};
  if (j["fact"] == "dead_letter" && j.value("reason", json()).is_string()) {
    out.fact = pp::dead_letter{.task_id = field, .reason = j["reason"]};
  } else if (j["fact"] == "early_stop" && key->kind == pp::task_kind::task_kind_stop &&
             j.value("slots", json()).is_array()) {
    pp::early_stop stop{.round = key->round};
    for (const json& s : j["slots"]) {
      if (!s.is_number_integer() || s.get<int64_t>() < 0 || s.get<int64_t>() > 1 << 20) {
        return std::nullopt;
      }
      stop.slots.insert(s.get<int32_t>());
    }
    out.fact = std::move(stop);
  } else {
    return std::nullopt;
  }
  return out;
}

// The ledgers of earlier releases kept facts as results: a dead letter with status given_up, a
// stop as ".../stop/0" whose text lists the slots ("1,3,5").
std::optional<problem_fact> legacy_fact(const pt::task_result_msg& r) {
  const std::optional<pp::task_key> key = pp::task_key::parse(r.task_id);
  if (!key) return std::nullopt;
  problem_fact out{.job = key->job, .problem = key->problem};
  if (key->kind == pp::task_kind::task_kind_stop) {
    const auto* c = std::get_if<pt::complete_output>(&r.output);
    if (c == nullptr) return std::nullopt;
    pp::early_stop stop{.round = key->round};
    for (size_t at = 0; at < c->text.size();) {
      const size_t comma = std::min(c->text.find(',', at), c->text.size());
      int32_t v = -1;
      std::from_chars(c->text.data() + at, c->text.data() + comma, v);
      if (v >= 0) stop.slots.insert(v);
      at = comma + 1;
    }
    out.fact = std::move(stop);
    return out;
  }
  if (r.status != pt::task_status::task_status_given_up) return std::nullopt;
  out.fact = pp::dead_letter{.task_id = r.task_id, .reason = r.error};
  return out;
}

} // namespace

void job_ledger::begin(const std::string& job, const std::string& entry, const std::string& spec,
                       const std::string& coordinator) {
  require(redis_.command({"HSET", keys::job(job), "status",
                          pt::job_status_name(pt::job_status::job_status_running), "entry", entry,
                          "spec", spec, "coordinator", coordinator}),
          "HSET job");
}

bool job_ledger::record(const std::string& job, const pt::task_result_msg& result) {
  std::vector<uint8_t> bytes = pt::encode(result);
  pt::redis_reply r = redis_.command(
      {"HSETNX", keys::job_ledger(job), result.task_id, std::string(bytes.begin(), bytes.end())});
  require(r, "HSETNX ledger");
  return r.integer == 1;
}

bool job_ledger::record(const problem_fact& f) {
  pt::redis_reply r = redis_.command({"HSETNX", keys::job_ledger(f.job),
                                      pp::fact_field(f.job, f.problem, f.fact),
                                      fact_json(f.fact)});
  require(r, "HSETNX ledger");
  return r.integer == 1;
}

ledger_contents job_ledger::load(const std::string& job) {
  pt::redis_reply r = redis_.command({"HGETALL", keys::job_ledger(job)});
  require(r, "HGETALL ledger");
  ledger_contents out;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    const std::string& field = r.elements[i].str;
    const std::string& bytes = r.elements[i + 1].str;
    pt::decode_result d = pt::decode(
        std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (d.message && std::holds_alternative<pt::task_result_msg>(*d.message)) {
      pt::task_result_msg& result = std::get<pt::task_result_msg>(*d.message);
      if (std::optional<problem_fact> old = legacy_fact(result)) {
        out.facts.push_back(std::move(*old));
      } else {
        out.results.push_back(std::move(result));
      }
    } else if (std::optional<problem_fact> f = parse_fact(field, bytes); f && f->job == job) {
      out.facts.push_back(std::move(*f));
    } else {
      ++out.undecodable;
    }
  }
  return out;
}

void job_ledger::event(const job_event& e) {
  if (e.id.empty()) {
    require(redis_.command({"XADD", keys::job_events(e.job), "MAXLEN", "~", "10000", "*",
                            "event", e.json}),
            "XADD events");
    return;
  }
  require(redis_.command({"EVAL", event_once, "2", keys::job_events(e.job),
                          keys::job_event_ids(e.job), e.id, e.json}),
          "EVAL event");
}

void job_ledger::pool(const pooled_proof& p) {
  const std::string key = keys::job_pool(p.job, p.problem);
  const std::string member = std::to_string(p.proof_id);
  require(redis_.command({"HSET", key, member, p.record}), "HSET pool");
  require(redis_.command({"ZADD", key + ":ranked", std::to_string(p.meanscore), member}),
          "ZADD pool");
}

void job_ledger::complete(const std::string& job, const std::string& result_json,
                          pt::job_status status) {
  require(redis_.command({"SET", keys::job_result(job), result_json}), "SET result");
  require(redis_.command({"HSET", keys::job(job), "status", pt::job_status_name(status)}),
          "HSET status");
}

std::vector<std::string> job_ledger::cancel_requested(const std::vector<std::string>& jobs) {
  if (jobs.empty()) return {};
  std::vector<std::string> args = {"SMISMEMBER", keys::jobs_cancel};
  args.insert(args.end(), jobs.begin(), jobs.end());
  pt::redis_reply r = redis_.command(args);
  require(r, "SMISMEMBER jobs:cancel");
  std::vector<std::string> out;
  for (size_t i = 0; i < r.elements.size() && i < jobs.size(); ++i) {
    if (r.elements[i].integer == 1) out.push_back(jobs[i]);
  }
  return out;
}

bool job_ledger::cancel_requested(const std::string& job) {
  pt::redis_reply r = redis_.command({"SISMEMBER", keys::jobs_cancel, job});
  require(r, "SISMEMBER jobs:cancel");
  return r.integer == 1;
}

void job_ledger::cancel_done(const std::string& job) {
  require(redis_.command({"SREM", keys::jobs_cancel, job}), "SREM jobs:cancel");
}

std::optional<pt::job_status> job_ledger::status(const std::string& job) {
  pt::redis_reply r = redis_.command({"HGET", keys::job(job), "status"});
  require(r, "HGET status");
  return pt::parse_job_status(r.str);
}

} // namespace proofmesh::coordinator
