// A proof job as producers write it (the `job` field of a `jobs` stream entry, format version 1):
//   {"id": "optional, [A-Za-z0-9_-]{1,64}",
//    "problems": [{"question": "...", "problem_idx": "optional"}, ...],
//    "strategy": "reference | release | paper-heavy | self-refine | quick" (default reference),
//    "params": {any parameter of strategy.hpp, overriding the preset's}}
// Rules of the road: parse_job_spec checks every field, type and range exactly as the gateway
// does (the coordinator runs it on queue-submitted jobs too); anything wrong is an input_error
// naming the field, and the caller dead-letters the entry. Every count and length has a limit.
#pragma once

#include "actors/pipeline/strategy.hpp"

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
  strategy_limits strategy;
};

job_spec parse_job_spec(const std::string& json_text, const job_limits& limits = {});

} // namespace proofmesh::pipeline
