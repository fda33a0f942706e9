// The jobs API's state, all of it in Redis (the gateway keeps none, so any number of gateways
// can serve the same queue). Rules of the road:
// - submit() validates the job exactly as the coordinator will (parse_job_spec), refuses it with
//   429 queue_full while the `jobs` stream holds more than max_queue_depth jobs, and then, in
//   one MULTI/EXEC, writes the job record (tenant, status queued, created_ms), indexes it under
//   the tenant, appends its first event and XADDs it to the queue: a job is either wholly
//   submitted or not at all.
// - Ids are the gateway's: "job-" and 32 hex digits, random, or derived from the tenant and an
//   Idempotency-Key header, in which case a repeated submit returns the first job (created =
//   false) instead of queuing a second.
// - A job belongs to its tenant: asked for by another tenant it does not exist (404), so ids
//   leak nothing.
// - cancel() records the request (jobs:cancel) for the coordinator running the job, which is the
//   only writer of a job's terminal status.
// Keys beyond the coordinator's (services/coordinator/job_ledger.hpp): tenant:<t>:jobs, a sorted
// set of job ids by creation time.
#pragma once

#include "actors/pipeline/job_spec.hpp"
#include "gateway/queue_depth.hpp"
#include "gateway/redis_pool.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace proofmesh::gateway {

struct job_store_params {
  int64_t max_queue_depth = 10000; // jobs waiting or running; more: 429
  int64_t max_list = 200;          // GET /v1/jobs page size cap
  pipeline::job_limits limits;
};

struct submit_outcome {
  std::string id;
  bool created = true; // false: an Idempotency-Key named an existing job
};

class job_store {
public:
  job_store(redis_pool& pool, job_store_params params) : pool_(pool), params_(params) {}

  /// `body`: the parsed request (job object or reference inputs array).
  submit_outcome submit(const std::string& tenant, const nlohmann::json& body,
                        const std::string& idempotency_key);
  nlohmann::json status(const std::string& tenant, const std::string& id);
  /// The result JSON of a finished job; 409 job_not_finished before that.
  std::string result(const std::string& tenant, const std::string& id);
  /// The pool's mean scores as a histogram: ten bins [k/10, (k+1)/10), then exactly 1.
  nlohmann::json pool_scores(const std::string& tenant, const std::string& id,
                             const std::string& problem);
  nlohmann::json cancel(const std::string& tenant, const std::string& id);
  /// The job as the coordinator runs it (the submitted JSON); 409 job_not_started before a
  /// coordinator has taken it.
  std::string spec(const std::string& tenant, const std::string& id);
  /// Up to `limit` (at most 256) pooled proofs of a problem, in the reference's pool schema,
  /// those with proof_id > `after`, in id order: {problem, total, proofs, next_after?}.
  nlohmann::json pool(const std::string& tenant, const std::string& id,
                      const std::string& problem, int64_t after, int64_t limit);
  /// Newest first; `before_ms` pages (0: from the newest).
  nlohmann::json list(const std::string& tenant, int64_t limit, int64_t before_ms);
  struct event_stream {
    std::string key;
    bool ended = false; // the job is finished and `after` is its last event: nothing will come
  };
  /// The events stream of a job the tenant owns (404 otherwise), read after `after`.
  event_stream events(const std::string& tenant, const std::string& id, const std::string& after);
  /// Redis answers, and the queue exists.
  bool ready();

private:
  struct record {
    std::string status;
    int64_t created_ms = 0;
    int64_t problems = 0;
    bool cancel_requested = false;
  };
  record owned(redis_connection& c, const std::string& tenant, const std::string& id);

  redis_pool& pool_;
  job_store_params params_;
  queue_depth depth_;
};

} // namespace proofmesh::gateway
