#include "actors/pipeline/job_spec.hpp"

#include "actors/common/bounded_json.hpp"
#include "actors/common/error.hpp"
#include "actors/common/names.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace proofmesh::pipeline {

namespace {

using nlohmann::json;


// "prefix" + to_string(i) + suffix, built with += (GCC 12 reports a false -Wrestrict on the
// operator+ form).
std::string numbered(const char* prefix, size_t i, const char* suffix = "") {
  std::string s = prefix;
  s += std::to_string(i);
  s += suffix;
  return s;
}

} // namespace

job_spec parse_job_spec(const std::string& json_text, const job_limits& limits) {
  json j = parse_bounded_json(json_text);
  if (j.is_discarded() || !j.is_object()) {
    throw input_error("the job is not a JSON object");
  }
  // A misspelt field is an error, not a silent default.
  for (const auto& [key, value] : j.items()) {
    if (key != "id" && key != "problems" && key != "strategy" && key != "params") {
      throw input_error("unknown field \"" + key + "\" (expected problems, strategy, params)");
    }
  }
  job_spec spec;
  if (j.contains("id")) {
    if (!j["id"].is_string() || !is_name(j["id"].get<std::string>(), false)) {
      throw input_error("id must be 1 to 64 of [A-Za-z0-9_-]");
    }
    spec.id = j["id"];
  }
  if (!j.contains("problems") || !j["problems"].is_array() || j["problems"].empty() ||
      j["problems"].size() > limits.max_problems) {
    throw input_error("problems must be an array of 1 to " + std::to_string(limits.max_problems) +
                      " problems");
  }
  for (size_t i = 0; i < j["problems"].size(); ++i) {
    const json& p = j["problems"][i];
    const std::string where = numbered("problems[", i, "]");
    if (!p.is_object() || !p.contains("question") || !p["question"].is_string()) {
      throw input_error(where + ".question must be a string");
    }
    job_problem problem{.problem_id = numbered("p", i), .question = p["question"]};
    if (problem.question.empty() || problem.question.size() > limits.max_question_bytes) {
      throw input_error(where + ".question must be 1 to " +
                        std::to_string(limits.max_question_bytes) + " bytes");
    }
    if (p.contains("problem_idx")) {
      if (!p["problem_idx"].is_string() || !is_name(p["problem_idx"].get<std::string>(), true)) {
        throw input_error(where + ".problem_idx must be 1 to 64 of [A-Za-z0-9_.-]");
      }
      problem.problem_id = p["problem_idx"];
    }
    for (const job_problem& other : spec.problems) {
      if (other.problem_id == problem.problem_id) {
        throw input_error(where + ": problem_idx \"" + problem.problem_id + "\" is repeated");
      }
    }
    spec.problems.push_back(std::move(problem));
  }
  if (j.contains("strategy") && !j["strategy"].is_string()) {
    throw input_error("strategy must be a string");
  }
  const std::string strategy = j.value("strategy", std::string("reference"));
  spec.params = parse_strategy(strategy, j.contains("params") ? j["params"] : json::object(),
                               limits.strategy);
  return spec;
}

} // namespace proofmesh::pipeline
