// A proof job as producers write it (the `job` field of a `jobs` stream entry, format version 1):
//   {"id": "optional, [A-Za-z0-9_-]{1,64}",
//    "problems": [{"question": "...", "problem_idx": "optional"}, ...],
//    "strategy": "simple",
//    "params": {"num_proofs": 4, "verifications_per_proof": 4,
//               "meta_verifications_per_rating": 1, "meta_threshold": 0.75,
//               "max_tokens": 4096, "temperature": 1.0, "top_p": 0.95}}
// Rules of the road: parse_job_spec checks every field, type and range exactly as the gateway
// does (the coordinator runs it on queue-submitted jobs too); anything wrong is an input_error
// naming the field, and the caller dead-letters the entry. Every count and length has a limit.
#pragma once

#include "actors/pipeline/simple_search.hpp"

#include <string>
#include <vector>

namespace proofmesh::pipeline {

struct job_problem {
  std::string problem_id; // problem_idx, or "p<index>"; [A-Za-z0-9_.-]{1,64}
  std::string question;
};

struct job_spec {
  std::string id; // empty: the stream entry id names the job
  std::vector<job_problem> problems;
  search_params params;
};

struct job_limits {
  size_t max_problems = 1024;
  size_t max_question_bytes = size_t{256} << 10;
  int32_t max_proofs = 1024;
  int32_t max_verifications = 256;
  int32_t max_meta = 64;
  int32_t max_tokens = 1 << 20;
};

job_spec parse_job_spec(const std::string& json_text, const job_limits& limits = {});

} // namespace proofmesh::pipeline
