// One problem of a job as an actor: it owns the problem's strategy state (simple_search) and
// turns each result into the tasks it unlocks. Rules of the road:
// - While a resumed job replays its ledger, results only rebuild state; at `replayed` the
//   tasks still open go out once. After that, each result's new tasks go out at once (no
//   barriers), and the sink hears how many tasks remain open.
// - Done (nothing open) after replay: it tells its job, with its summary, once.
#pragma once

#include "actors/pipeline/job_spec.hpp"
#include "services/coordinator/coordinator_types.hpp"
#include "services/coordinator/loop_waker.hpp"

#include <optional>

namespace proofmesh::coordinator {

struct problem_state {
  static inline const char* name = "proofmesh.problem";
  std::optional<pipeline::simple_search> search;
  std::string job_id, problem_id;
  bool replaying = true;
  bool reported_done = false;
};

using problem_pointer = problem_actor::stateful_pointer<problem_state>;

problem_actor::behavior_type problem_actor_impl(problem_pointer self, std::string job_id,
                                                pipeline::job_problem problem,
                                                pipeline::search_params params,
                                                job_actor job, coordinator_sink sink,
                                                std::shared_ptr<const loop_waker> waker);

/// A problem's summary: {"problem_id", "counts", "best"?}.
std::string problem_summary(const std::string& problem_id, const pipeline::simple_search& search);

} // namespace proofmesh::coordinator
