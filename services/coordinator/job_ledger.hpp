// What the coordinator keeps in Redis for each job, written before it acts on it, so another
// coordinator can resume the job from there. Keys (job ids never contain '/' or ':'):
//   job:<id>          hash: status (job_status), entry (the jobs stream entry id), coordinator
//                     (who runs it), spec (the job JSON); the gateway adds tenant, created_ms
//                     and cancel_requested
//   jobs:cancel       set of job ids whose cancellation was asked for and not yet carried out
//   job:<id>:ledger   hash: task id -> the task's result as a wire envelope (binary), or a
//                     search fact as JSON ({"fact": "dead_letter", "reason"} under the task's
//                     id; {"fact": "early_stop", "slots"} under the round's stop key)
//   job:<id>:result   the final result JSON
//   job:<id>:events   stream of progress events (JSON), capped
//   job:<id>:event_ids  hash: the ids of the events written, so each fact's event goes out once
//   job:<id>:pool:<problem>         hash: proof_id -> the pooled proof in the reference's pool
//                                   schema (actors/pipeline/pool_record.hpp), written once
//   job:<id>:pool:<problem>:ranked  sorted set: proof index by mean score (the best: ZREVRANGE)
// Rules of the road: a result or fact is recorded with HSETNX, so a task counts once however
// often it ran; resuming replays the ledger into fresh search state (the searches are pure
// functions of their results and facts). Every write is idempotent, so a write that Redis may
// or may not have taken is simply made again.
#pragma once

#include "actors/transport/job_status.hpp"
#include "actors/transport/redis_client.hpp"
#include "actors/transport/wire_messages.hpp"
#include "services/coordinator/coordinator_types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proofmesh::coordinator {

/// A job's ledger, read back: results and facts in hash order.
struct ledger_contents {
  std::vector<transport::task_result_msg> results;
  std::vector<problem_fact> facts;
  int64_t undecodable = 0; // entries that no longer decode (skipped)
};

class job_ledger {
public:
  explicit job_ledger(transport::redis_client& redis) : redis_(redis) {}

  void begin(const std::string& job, const std::string& entry, const std::string& spec,
             const std::string& coordinator);
  /// True when this is the task's first recorded result.
  bool record(const std::string& job, const transport::task_result_msg& result);
  /// True when this is the fact's first record.
  bool record(const problem_fact& fact);
  ledger_contents load(const std::string& job);
  /// Written unless an event of the same id was (an empty id: always).
  void event(const job_event& event);
  /// A proof that joined a problem's pool (a replay writes the same record again).
  void pool(const pooled_proof& proof);
  /// Stores the final result and the terminal status.
  void complete(const std::string& job, const std::string& result_json,
                transport::job_status status);
  /// Those of `jobs` whose cancellation was asked for (the gateway's DELETE), and the ack that
  /// one is done.
  std::vector<std::string> cancel_requested(const std::vector<std::string>& jobs);
  bool cancel_requested(const std::string& job);
  void cancel_done(const std::string& job);
  /// Null for a job without a record (or one whose status is not ours).
  std::optional<transport::job_status> status(const std::string& job);

private:
  transport::redis_client& redis_;
};

} // namespace proofmesh::coordinator
