// One job as an actor: it spawns a problem actor per problem, routes each result and replayed
// fact to its problem by the task's key, turns its problems' reports into the job's result
// events, and when every problem has said done, sends the job's outcome to the sink. Rules of the
// road: it holds no Redis or socket; the I/O loop writes every fact before a result reaches
// here, and writes the outcome this reports.
#pragma once

#include "actors/pipeline/job_spec.hpp"
#include "services/coordinator/coordinator_types.hpp"
#include "services/coordinator/loop_waker.hpp"

#include <map>

namespace proofmesh::coordinator {

struct job_state {
  static inline const char* name = "proofmesh.job";
  std::string job_id;
  std::vector<std::string> order;                    // problem ids as the job lists them
  std::map<std::string, problem_actor> problems;     // by problem id
  std::map<std::string, int64_t> open;               // each problem's open tasks, as it said
  std::map<std::string, problem_summary> summaries;  // problems done
  int64_t done = 0; // recorded results its problems have reported
  bool reported = false;
};

using job_pointer = job_actor::stateful_pointer<job_state>;

/// `waker` is rung after every send to `sink` (shared: the actor may outlive the loop).
job_actor::behavior_type job_actor_impl(job_pointer self, std::string job_id,
                                        pipeline::job_spec spec, coordinator_sink sink,
                                        std::shared_ptr<const loop_waker> waker);

/// The result JSON of a job from its problems' summaries, in problem order.
std::string job_result_json(const std::string& job_id, transport::job_status status,
                            const std::vector<problem_summary>& problems);

} // namespace proofmesh::coordinator
