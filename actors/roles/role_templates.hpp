// The four prompt templates of the roles, loaded from a JSON file shaped like
// ../shared/dsm2/templates.json, and the prompt each kind of task renders to. Rules of the road:
// - The file is checked at load: an object with exactly proof_generation {question},
//   proof_verification {statement, proof}, meta_verification {statement, proof, rating} and
//   proof_refinement {instruction, proofs_to_refine}; any other field or a missing template is an
//   input_error naming it, so a service refuses to start with a wrong file.
// - A refinement task (a generation with a refinement context) renders proof_refinement with
//   `instruction` = the rendered proof_generation of its problem, as the reference does.
#pragma once

#include "actors/roles/prompt_template.hpp"
#include "actors/transport/wire_messages.hpp"

#include <string>

namespace proofmesh::roles {

class role_templates {
public:
  static role_templates from_file(const std::string& path);
  static role_templates from_json_text(const std::string& text, const std::string& origin);

  std::string render(const transport::task_input& input) const;

private:
  role_templates(prompt_template generation, prompt_template verification,
                 prompt_template meta_verification, prompt_template refinement);

  prompt_template generation_;
  prompt_template verification_;
  prompt_template meta_verification_;
  prompt_template refinement_;
};

} // namespace proofmesh::roles
