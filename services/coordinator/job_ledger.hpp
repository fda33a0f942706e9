// What the coordinator keeps in Redis for each job, written before it acts on it, so another
// coordinator can resume the job from there. Keys (job ids never contain '/' or ':'):
//   job:<id>          hash: status (queued | running | completed | cancelled), entry (the jobs
//                     stream entry id), coordinator (who runs it), spec (the job JSON); the
//                     gateway adds tenant, created_ms and cancel_requested
//   jobs:cancel       set of job ids whose cancellation was asked for and not yet carried out
//   job:<id>:ledger   hash: task id -> the task's result as a wire envelope (binary)
//   job:<id>:result   the final result JSON
//   job:<id>:events   stream of progress events (JSON), capped
//   job:<id>:pool:<problem>         hash: proof_id -> the pooled proof in the reference's pool
//                                   schema (actors/pipeline/pool_record.hpp), written once
//   job:<id>:pool:<problem>:ranked  sorted set: proof index by mean score (the best: ZREVRANGE)
// Rules of the road: a result is recorded with HSETNX, so a task counts once however often it
// ran; resuming replays the ledger into fresh strategy state (the strategies are pure functions
// of their results).
#pragma once

#include "actors/transport/redis_client.hpp"
#include "actors/transport/wire_messages.hpp"

#include <string>
#include <vector>

namespace proofmesh::coordinator {

class job_ledger {
public:
  explicit job_ledger(transport::redis_client& redis) : redis_(redis) {}

  void begin(const std::string& job, const std::string& entry, const std::string& spec,
             const std::string& coordinator);
  /// True when this is the task's first recorded result.
  bool record(const std::string& job, const transport::task_result_msg& result);
  /// Every recorded result; entries that no longer decode are skipped (and counted).
  std::vector<transport::task_result_msg> load(const std::string& job, int64_t* undecodable);
  void event(const std::string& job, const std::string& json);
  /// A proof that joined a problem's pool (a replay writes the same record again).
  void pool(const std::string& job, const std::string& problem, int32_t index,
            const std::string& proof_json, double mean_score);
  /// Stores the final result and the terminal status (completed or cancelled).
  void complete(const std::string& job, const std::string& result_json,
                const std::string& status = "completed");
  /// Those of `jobs` whose cancellation was asked for (the gateway's DELETE), and the ack that
  /// one is done.
  std::vector<std::string> cancel_requested(const std::vector<std::string>& jobs);
  bool cancel_requested(const std::string& job);
  void cancel_done(const std::string& job);
  std::string status(const std::string& job);

private:
  transport::redis_client& redis_;
};

} // namespace proofmesh::coordinator
