#include "actors/pipeline/job_request.hpp"

#include "actors/common/bounded_json.hpp"
#include "actors/common/error.hpp"

#include <sstream>

namespace proofmesh::pipeline {

namespace {

using nlohmann::json;

json problem_of(const json& item, const std::string& where) {
  if (!item.is_object() || !item.contains("question")) {
    throw input_error(where + " needs a \"question\"");
  }
  json p = {{"question", item["question"]}};
  if (item.contains("problem_idx")) p["problem_idx"] = item["problem_idx"];
  return p;
}

} // namespace

json job_from_json(const json& body) {
  if (body.is_object() && !body.contains("question")) {
    return body; // a job object; parse_job_spec checks every field of it
  }
  json problems = json::array();
  if (body.is_array()) {
    for (size_t i = 0; i < body.size(); ++i) {
      problems.push_back(problem_of(body[i], "problem " + std::to_string(i)));
    }
  } else if (body.is_object()) {
    problems.push_back(problem_of(body, "the problem")); // a one-line JSONL file
  } else {
    throw input_error("expected a job object or an array of problems");
  }
  return {{"problems", problems}};
}

json job_from_text(const std::string& text) {
  json whole = parse_bounded_json(text);
  if (!whole.is_discarded()) {
    return job_from_json(whole);
  }
  json problems = json::array();
  std::istringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json item = parse_bounded_json(line);
    if (item.is_discarded()) {
      throw input_error("line " + std::to_string(n) + " is not JSON");
    }
    problems.push_back(problem_of(item, "line " + std::to_string(n)));
  }
  if (problems.empty()) {
    throw input_error("no problems in the file");
  }
  return {{"problems", problems}};
}

} // namespace proofmesh::pipeline
