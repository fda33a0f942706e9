// One problem of a job as an actor: it owns the problem's search (proof_search) and turns each
// result into the work it unlocks. Rules of the road:
// - While a resumed job replays its ledger, results and facts only rebuild state; at `replayed`
//   the search resumes (a stop it deferred takes effect) and the tasks still open go out once.
//   After that, each result's new tasks go out at once (no barriers).
// - Every result it applies is reported to its job (task_report), which makes the job's result
//   event of it; replayed results are reported too, since their events may be the ones a dead
//   coordinator never wrote (events carry ids, so the rest are not written twice).
// - A failed task goes out again after a backoff (250 ms, doubling, at most 8 s), through a
//   `retry` message to itself, and only if the search still wants it.
// - The search's facts (dead letters, early stops) go to the ledger through the sink before the
//   tasks that follow them. Tasks a stop left unfinished are withdrawn (cancelled on their
//   workers). Each proof that joins the pool goes to the sink in the reference's pool schema;
//   each round that closes, and the problem's end, become progress events.
// - Done after replay: it tells its job, with its summary, once.
#pragma once

#include "actors/pipeline/job_spec.hpp"
#include "actors/pipeline/proof_search.hpp"
#include "services/coordinator/coordinator_types.hpp"
#include "services/coordinator/loop_waker.hpp"

#include <memory>

namespace proofmesh::coordinator {

struct problem_state {
  static inline const char* name = "proofmesh.problem";
  std::unique_ptr<pipeline::proof_search> search;
  std::string job_id, problem_id;
  int64_t rounds_reported = 0; // rounds closed that have had their event
  bool reported_done = false;
};

using problem_pointer = problem_actor::stateful_pointer<problem_state>;

struct problem_actor_params {
  std::string job_id;
  pipeline::job_problem problem;
  pipeline::search_params params;
  job_actor job;
  coordinator_sink sink;
  std::shared_ptr<const loop_waker> waker;
};

problem_actor::behavior_type problem_actor_impl(problem_pointer self, problem_actor_params p);

/// How the problem's search stands: status, counts, pool size, dead letters, the final
/// selection, and its open tasks.
problem_summary summarize(const std::string& problem_id, const pipeline::proof_search& search);

} // namespace proofmesh::coordinator
