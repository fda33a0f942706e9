// The coordinator's actors and the messages between them, in one CAF type-ID block after the
// engine's (STYLE.md item 4). Rules of the road:
// - A job actor per job, a problem actor per problem; the coordinator's I/O loop (sockets and
//   Redis, one thread) talks to them through its own mailbox, typed as `coordinator_sink`.
// - Tasks and results cross mailboxes as wire envelopes (std::string bytes from wire_codec):
//   one verified encoding for the wire and the mailbox, no second set of inspect functions.
// - Append only: a reordered block renumbers types.
#pragma once

#include "actors/engine/serving/engine_types.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(proofmesh_coordinator, caf::id_block::proofmesh_engine::end)
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, result_atom, "pm_result")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, replayed_atom, "pm_replay")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, tasks_atom, "pm_tasks")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, resolved_atom, "pm_resolv")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, problem_done_atom, "pm_pdone")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, job_done_atom, "pm_jdone")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, summary_atom, "pm_summary")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, pool_atom, "pm_pool")
  CAF_ADD_TYPE_ID(proofmesh_coordinator, (std::vector<std::string>))
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, retry_atom, "pm_retry")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, withdraw_atom, "pm_withdr")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, event_atom, "pm_event")
  CAF_ADD_ATOM(proofmesh_coordinator, proofmesh::coordinator, fact_atom, "pm_fact")
CAF_END_TYPE_ID_BLOCK(proofmesh_coordinator)

namespace proofmesh::coordinator {

/// The I/O loop's mailbox, as the actors see it:
/// - tasks: wire-encoded tasks to dispatch;
/// - resolved (job, problem, open): a problem took a result; `open` tasks remain in it;
/// - pool (job, problem, proof_id, proof JSON, mean score): a proof joined the problem's pool
///   (the JSON in the reference's pool schema);
/// - withdraw (task ids): tasks no longer wanted (a problem stopped early), to cancel;
/// - event (job, event JSON): a progress event for the job's stream (a round closed, a problem
///   finished);
/// - fact (job, wire result): a search's decision to keep in the ledger with the results (a
///   dead letter, an early stop), so that a resumed search decides the same;
/// - job_done (job, result JSON): every problem of the job is done.
using coordinator_sink =
    caf::typed_actor<caf::reacts_to<tasks_atom, std::vector<std::string>>,
                     caf::reacts_to<withdraw_atom, std::vector<std::string>>,
                     caf::reacts_to<event_atom, std::string, std::string>,
                     caf::reacts_to<fact_atom, std::string, std::string>,
                     caf::reacts_to<resolved_atom, std::string, std::string, int64_t>,
                     caf::reacts_to<pool_atom, std::string, std::string, int32_t, std::string,
                                    double>,
                     caf::reacts_to<job_done_atom, std::string, std::string>>;

/// A problem: results in (wire bytes), in any order; `replayed` ends the replay of a resumed
/// job, after which its open tasks go out; `retry` (to itself) sends failed tasks again after
/// their backoff; `summary` answers its counts and best proof (JSON).
using problem_actor =
    caf::typed_actor<caf::reacts_to<result_atom, std::string>, caf::reacts_to<replayed_atom>,
                     caf::reacts_to<retry_atom, std::vector<std::string>>,
                     caf::replies_to<summary_atom>::with<std::string>>;

/// A job: routes results to its problems, reports itself done; `summary` answers the result
/// JSON so far (for a cancelled job).
using job_actor =
    caf::typed_actor<caf::reacts_to<result_atom, std::string, std::string>,
                     caf::reacts_to<replayed_atom>,
                     caf::reacts_to<problem_done_atom, std::string, std::string>,
                     caf::replies_to<summary_atom, std::string>::with<std::string>>;

caf::actor_system_config& add_coordinator_types(caf::actor_system_config& cfg);

} // namespace proofmesh::coordinator
