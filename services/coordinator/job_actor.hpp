// One job as an actor: it spawns a problem actor per problem, routes each result to its
// problem by the task id ("job/problem/..."), and when every problem has said done, sends the
// job's result JSON to the sink. Rules of the road: it holds no Redis or socket; the I/O loop
// writes every fact before a result reaches here, and writes the result this reports.
#pragma once

#include "actors/pipeline/job_spec.hpp"
#include "services/coordinator/coordinator_types.hpp"
#include "services/coordinator/loop_waker.hpp"

#include <map>

namespace proofmesh::coordinator {

struct job_state {
  static inline const char* name = "proofmesh.job";
  std::string job_id;
  std::map<std::string, problem_actor> problems;   // by problem id
  std::map<std::string, std::string> summaries;    // problems done: their summaries
  bool reported = false;
};

using job_pointer = job_actor::stateful_pointer<job_state>;

/// `waker` is rung after every send to `sink` (shared: the actor may outlive the loop).
job_actor::behavior_type job_actor_impl(job_pointer self, std::string job_id,
                                        pipeline::job_spec spec, coordinator_sink sink,
                                        std::shared_ptr<const loop_waker> waker);

/// The result JSON of a job from its problems' summaries, in problem order.
std::string job_result_json(const std::string& job_id, const std::string& status,
                            const std::vector<std::string>& summaries);

} // namespace proofmesh::coordinator
