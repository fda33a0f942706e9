// The shapes a caller may hand us problems in, made into one job object {"problems": [...], ...}
// for parse_job_spec. Rules of the road: the gateway's POST /v1/jobs and `proofmesh submit`
// accept the same shapes, so a file that works with one works with the other:
// - a job object: {"problems": [...], "strategy"?, "params"?} (kept as it is);
// - the reference's inputs format: a JSON array of {question, problem_idx?, ...};
// - JSONL (job_from_text only): one {question, problem_idx?} per line.
// Problems keep only question and problem_idx (the reference's id, answer and contest fields are
// the grader's business, not the search's). Nothing here checks ranges: parse_job_spec does.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace proofmesh::pipeline {

/// A job object from parsed JSON (a job object or a reference inputs array); input_error if
/// it is neither.
nlohmann::json job_from_json(const nlohmann::json& body);

/// As job_from_json, but from text that may also be JSONL.
nlohmann::json job_from_text(const std::string& text);

} // namespace proofmesh::pipeline
