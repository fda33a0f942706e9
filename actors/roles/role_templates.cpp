#include "actors/roles/role_templates.hpp"

#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/roles/python_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace proofmesh::roles {

namespace {

prompt_template checked(const nlohmann::json& file, const std::string& name,
                        std::set<std::string> fields, const std::string& origin) {
  if (!file.contains(name) || !file[name].is_string()) {
    throw input_error(origin + ": no \"" + name + "\" template (a string)");
  }
  prompt_template t(file[name].get<std::string>());
  std::vector<std::string> got = t.fields();
  std::set<std::string> unique(got.begin(), got.end());
  if (unique != fields) {
    std::string want;
    for (const auto& f : fields) want += " {" + f + "}";
    throw input_error(origin + ": template \"" + name + "\" must use exactly" + want);
  }
  return t;
}

} // namespace

role_templates::role_templates(prompt_template generation, prompt_template verification,
                               prompt_template meta_verification, prompt_template refinement)
    : generation_(std::move(generation)), verification_(std::move(verification)),
      meta_verification_(std::move(meta_verification)), refinement_(std::move(refinement)) {}

role_templates role_templates::from_json_text(const std::string& text, const std::string& origin) {
  nlohmann::json file = nlohmann::json::parse(text, nullptr, false);
  if (file.is_discarded() || !file.is_object()) {
    throw input_error(origin + ": not a JSON object of templates");
  }
  for (const auto& [key, value] : file.items()) {
    static const std::set<std::string> known = {"proof_generation", "proof_verification",
                                                "meta_verification", "proof_refinement"};
    if (!known.contains(key)) {
      throw input_error(origin + ": unknown template \"" + key + "\"");
    }
  }
  return role_templates(checked(file, "proof_generation", {"question"}, origin),
                        checked(file, "proof_verification", {"statement", "proof"}, origin),
                        checked(file, "meta_verification", {"statement", "proof", "rating"}, origin),
                        checked(file, "proof_refinement", {"instruction", "proofs_to_refine"},
                                origin));
}

role_templates role_templates::from_file(const std::string& path) {
  return from_json_text(read_text_file(path, size_t{4} << 20), path);
}

std::string role_templates::render(const transport::task_input& input) const {
  using namespace transport;
  if (const auto* g = std::get_if<generate_input>(&input)) {
    std::string instruction = generation_.render({{"question", g->problem}});
    if (g->refinement_context.empty()) {
      return instruction;
    }
    // As main.py: instruction = proof_generation.format(question=...).strip(); the context
    // comes stripped from the search.
    return refinement_.render({{"instruction", std::string(python_strip(instruction))},
                               {"proofs_to_refine", g->refinement_context}});
  }
  if (const auto* v = std::get_if<verify_input>(&input)) {
    return verification_.render({{"statement", v->problem}, {"proof", v->solution}});
  }
  const auto& m = std::get<meta_verify_input>(input);
  return meta_verification_.render(
      {{"statement", m.problem}, {"proof", m.solution}, {"rating", m.rating}});
}

} // namespace proofmesh::roles
