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


int32_t int_field(const json& params, const char* name, int32_t fallback, int32_t lo, int32_t hi) {
  if (!params.contains(name)) return fallback;
  const json& v = params[name];
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    throw input_error(std::string("params.") + name + " must be an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int32_t>(v.get<int64_t>());
}

float float_field(const json& params, const char* name, float fallback, float lo, float hi) {
  if (!params.contains(name)) return fallback;
  const json& v = params[name];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo ||
      v.get<double>() > hi) {
    throw input_error(std::string("params.") + name + " must be a number in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v.get<float>();
}

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
  if (j.contains("strategy") && j["strategy"] != "simple") {
    throw input_error("strategy must be \"simple\" (the others come with the search issue)");
  }
  const json params = j.contains("params") ? j["params"] : json::object();
  if (!params.is_object()) {
    throw input_error("params must be an object");
  }
  for (const auto& [key, value] : params.items()) {
    static const char* known[] = {"num_proofs", "verifications_per_proof",
                                  "meta_verifications_per_rating", "meta_threshold",
                                  "max_tokens", "temperature", "top_p"};
    if (std::find(std::begin(known), std::end(known), key) == std::end(known)) {
      throw input_error("params: unknown field \"" + key + "\"");
    }
  }
  search_params& s = spec.params;
  s.num_proofs = int_field(params, "num_proofs", s.num_proofs, 1, limits.max_proofs);
  s.verifications_per_proof = int_field(params, "verifications_per_proof",
                                        s.verifications_per_proof, 0, limits.max_verifications);
  s.meta_verifications_per_rating = int_field(params, "meta_verifications_per_rating",
                                              s.meta_verifications_per_rating, 0, limits.max_meta);
  s.meta_threshold = float_field(params, "meta_threshold", s.meta_threshold, 0.0f, 1.0f);
  s.sampling.max_tokens = int_field(params, "max_tokens", s.sampling.max_tokens, 1,
                                    limits.max_tokens);
  s.sampling.temperature = float_field(params, "temperature", s.sampling.temperature, 0.0f, 100.0f);
  s.sampling.top_p = float_field(params, "top_p", s.sampling.top_p, 0.001f, 1.0f);
  return spec;
}

} // namespace proofmesh::pipeline
