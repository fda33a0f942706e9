#include "services/coordinator/job_ledger.hpp"

#include "actors/transport/wire_codec.hpp"
#include "actors/transport/redis_keys.hpp"

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;

namespace {

void require(const pt::redis_reply& r, const char* what) {
  if (r.is_error()) {
    throw pt::redis_unavailable(std::string(what) + ": " + r.str);
  }
}

} // namespace

void job_ledger::begin(const std::string& job, const std::string& entry, const std::string& spec,
                       const std::string& coordinator) {
  require(redis_.command({"HSET", keys::job(job), "status", "running", "entry", entry, "spec", spec,
                          "coordinator", coordinator}),
          "HSET job");
}

bool job_ledger::record(const std::string& job, const pt::task_result_msg& result) {
  std::vector<uint8_t> bytes = pt::encode(result);
  pt::redis_reply r = redis_.command(
      {"HSETNX", keys::job_ledger(job), result.task_id, std::string(bytes.begin(), bytes.end())});
  require(r, "HSETNX ledger");
  return r.integer == 1;
}

std::vector<pt::task_result_msg> job_ledger::load(const std::string& job, int64_t* undecodable) {
  pt::redis_reply r = redis_.command({"HGETALL", keys::job_ledger(job)});
  require(r, "HGETALL ledger");
  std::vector<pt::task_result_msg> out;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    const std::string& bytes = r.elements[i + 1].str;
    pt::decode_result d = pt::decode(
        std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (d.message && std::holds_alternative<pt::task_result_msg>(*d.message)) {
      out.push_back(std::get<pt::task_result_msg>(std::move(*d.message)));
    } else if (undecodable != nullptr) {
      ++*undecodable;
    }
  }
  return out;
}

void job_ledger::event(const std::string& job, const std::string& json) {
  require(redis_.command({"XADD", keys::job_events(job), "MAXLEN", "~", "10000", "*", "event",
                          json}),
          "XADD events");
}

void job_ledger::pool(const std::string& job, const std::string& problem, int32_t index,
                      const std::string& proof_json, double mean_score) {
  const std::string key = keys::job_pool(job, problem);
  const std::string member = std::to_string(index);
  require(redis_.command({"HSET", key, member, proof_json}), "HSET pool");
  require(redis_.command({"ZADD", key + ":ranked", std::to_string(mean_score), member}),
          "ZADD pool");
}

void job_ledger::complete(const std::string& job, const std::string& result_json,
                          const std::string& status) {
  require(redis_.command({"SET", keys::job_result(job), result_json}), "SET result");
  require(redis_.command({"HSET", keys::job(job), "status", status}), "HSET status");
}

std::vector<std::string> job_ledger::cancel_requested(const std::vector<std::string>& jobs) {
  if (jobs.empty()) return {};
  std::vector<std::string> args = {"SMISMEMBER", "jobs:cancel"};
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
  pt::redis_reply r = redis_.command({"SISMEMBER", "jobs:cancel", job});
  require(r, "SISMEMBER jobs:cancel");
  return r.integer == 1;
}

void job_ledger::cancel_done(const std::string& job) {
  require(redis_.command({"SREM", "jobs:cancel", job}), "SREM jobs:cancel");
}

std::string job_ledger::status(const std::string& job) {
  pt::redis_reply r = redis_.command({"HGET", keys::job(job), "status"});
  require(r, "HGET status");
  return r.str;
}

} // namespace proofmesh::coordinator
