// The coordinator's actors and the plain structs between them, in one CAF type-ID block after the
// engine's (STYLE.md item 4). Rules of the road:
// - A job actor per job, a problem actor per problem; the coordinator's I/O loop (sockets and
//   Redis, one thread) talks to them through its own mailbox, typed as `coordinator_sink`.
// - Tasks, results and facts cross mailboxes as the plain structs they are (wire_inspect,
//   search_inspect): decoded once at the socket or the ledger, encoded once on the way out.
// - Append only: a reordered block renumbers types.
#pragma once

#include "actors/engine/serving/engine_types.hpp"
#include "actors/pipeline/search_inspect.hpp"
#include "actors/transport/job_status.hpp"
#include "actors/transport/wire_inspect.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>
#include <string>
#include <vector>

namespace proofmesh::coordinator {

/// Whether a result is one the ledger keeps (a failed or handed-back run is not a fact: the task
/// runs again under the same id).
inline bool is_recorded(transport::task_status s) {
  return s != transport::task_status::task_status_failed &&
         s != transport::task_status::task_status_handed_back;
}

/// A fact of a problem's search: to keep in its job's ledger (problem to loop), or replayed from
/// it (loop to job to problem).
struct problem_fact {
  std::string job;
  std::string problem;
  pipeline::search_fact fact;
};

/// A progress event for a job's stream. `id` names the fact it reports ("round/p0/2",
/// "result/<task id>"), so it is written once however often a resumed search sends it again;
/// empty for an occurrence that is no fact (a start, a failed attempt), written each time.
struct job_event {
  std::string job;
  std::string id;
  std::string json;
};

/// A proof that joined a problem's pool: `record` in the reference's pool schema.
struct pooled_proof {
  std::string job;
  std::string problem;
  int32_t proof_id = 0;
  std::string record;
  double meanscore = 0;
};

/// A result a problem applied (problem to job): what the job's result event reports.
struct task_report {
  std::string problem;
  std::string task_id;
  transport::task_status status = transport::task_status::task_status_ok;
  uint32_t elapsed_ms = 0; // the worker's engine time
  std::string error;
  bool recorded = false; // a result in the ledger (not a failed attempt): one more done
  int64_t open = 0;      // the problem's tasks still open after it
};

/// A problem as it stands: its counts, its pool's best proof (the final selection), and the
/// tasks it still waits for (none once it is done).
struct problem_summary {
  std::string problem_id;
  pipeline::problem_status status = pipeline::problem_status::problem_status_running;
  std::string reason;
  pipeline::search_counts counts;
  int64_t pool_size = 0;
  std::vector<pipeline::dead_letter> dead_letters;
  std::optional<pipeline::pool_proof> best;
  std::vector<std::string> open_tasks;
};

/// A job at its end: its result JSON, and the tasks still open (a cancel withdraws them).
struct job_outcome {
  std::string job;
  transport::job_status status = transport::job_status::job_status_completed;
  std::string result_json;
  std::vector<std::string> open_tasks;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, problem_fact& x) {
  return f(caf::meta::type_name("problem_fact"), x.job, x.problem, x.fact);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_event& x) {
  return f(caf::meta::type_name("job_event"), x.job, x.id, x.json);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pooled_proof& x) {
  return f(caf::meta::type_name("pooled_proof"), x.job, x.problem, x.proof_id, x.record,
           x.meanscore);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_report& x) {
  return f(caf::meta::type_name("task_report"), x.problem, x.task_id, x.status, x.elapsed_ms,
           x.error, x.recorded, x.open);
}
using proofmesh::std_inspect::inspect;
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, problem_summary& x) {
  return f(caf::meta::type_name("problem_summary"), x.problem_id, x.status, x.reason, x.counts,
           x.pool_size, x.dead_letters, x.best, x.open_tasks);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_outcome& x) {
  return f(caf::meta::type_name("job_outcome"), x.job, x.status, x.result_json, x.open_tasks);
}

} // namespace proofmesh::coordinator

CAF_BEGIN_TYPE_ID_BLOCK(proofmesh_coordinator, caf::id_block::proofmesh_engine::end)
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, result_atom, "pm_result")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, replayed_atom, "pm_replay")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, tasks_atom, "pm_tasks")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, report_atom, "pm_report")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, problem_done_atom, "pm_pdone")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, job_done_atom, "pm_jdone")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, summary_atom, "pm_summary")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, pool_atom, "pm_pool")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, retry_atom, "pm_retry")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, withdraw_atom, "pm_withdr")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, event_atom, "pm_event")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, fact_atom, "pm_fact")
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::transport::task_msg))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (std::vector<proofmesh::transport::task_msg>))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::transport::task_result_msg))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::transport::job_status))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::pipeline::search_fact))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::coordinator::problem_fact))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::coordinator::job_event))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::coordinator::pooled_proof))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::coordinator::task_report))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::coordinator::problem_summary))
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (proofmesh::coordinator::job_outcome))
CAF_END_TYPE_ID_BLOCK(proofmesh_coordinator)

namespace proofmesh::coordinator {

/// The I/O loop's mailbox, as the actors see it:
/// - tasks: to dispatch;
/// - withdraw (task ids): tasks no longer wanted (a problem stopped early), to cancel;
/// - fact: a search's decision, to keep in the ledger before anything that follows it;
/// - event: a progress event for the job's stream;
/// - pool: a proof joined a problem's pool;
/// - job_done: every problem of the job is done.
using coordinator_sink =
    caf::typed_actor<caf::reacts_to<tasks_atom, std::vector<transport::task_msg>>,
                     caf::reacts_to<withdraw_atom, std::vector<std::string>>,
                     caf::reacts_to<fact_atom, problem_fact>,
                     caf::reacts_to<event_atom, job_event>,
                     caf::reacts_to<pool_atom, pooled_proof>,
                     caf::reacts_to<job_done_atom, job_outcome>>;

/// A problem: results and replayed facts in, in any order; `replayed` ends the replay of a
/// resumed job, after which its open tasks go out; `retry` (to itself) sends failed tasks again
/// after their backoff; `summary` answers how it stands.
using problem_actor =
    caf::typed_actor<caf::reacts_to<result_atom, transport::task_result_msg>,
                     caf::reacts_to<fact_atom, pipeline::search_fact>,
                     caf::reacts_to<replayed_atom>,
                     caf::reacts_to<retry_atom, std::vector<transport::task_msg>>,
                     caf::replies_to<summary_atom>::with<problem_summary>>;

/// A job: routes results and replayed facts to its problems, turns their reports into result
/// events, reports itself done; `summary` answers its outcome so far (a cancel's result).
using job_actor =
    caf::typed_actor<caf::reacts_to<result_atom, transport::task_result_msg>,
                     caf::reacts_to<fact_atom, problem_fact>,
                     caf::reacts_to<replayed_atom>,
                     caf::reacts_to<report_atom, task_report>,
                     caf::reacts_to<problem_done_atom, problem_summary>,
                     caf::replies_to<summary_atom, transport::job_status>::with<job_outcome>>;

caf::actor_system_config& add_coordinator_types(caf::actor_system_config& cfg);

} // namespace proofmesh::coordinator
