// Scripted models for the three roles, made by model init: each writes one fixed, parseable
// output whatever its prompt, so a mesh test can predict every count of a job exactly:
// - generator: a proof whose self-evaluation scores 1;
// - verifier: a rating of 0.5 (at most the 0.75 threshold, so every rating is meta-verified);
// - meta-verifier: a quality of 1.
// And one model for a combined worker, whose one output parses in all three roles: a proof that
// scores itself 0.5, which as a rating is 0.5 (meta-verified) and as a meta-verification 0.5
// (valid: at least meta_valid_from), so a job's counts are those of the three models above.
#pragma once

#include "actors/engine/model/model_init.hpp"

#include <string>

namespace proofmesh::testing {

inline constexpr const char* scripted_solution = "By the scripted argument, the claim holds.";

struct scripted_model_dirs {
  std::string generator, verifier, meta_verifier;
};

inline scripted_model_dirs make_scripted_models(const std::string& dir) {
  const std::string gen = std::string("</think>\n## Solution\n") + scripted_solution +
                          "\n## Self Evaluation\nHere is my evaluation of the solution: sound."
                          "\n\nBased on my evaluation, the final overal score should be:\n"
                          "\\boxed{1}";
  const std::string verify = "</think>\nHere is my evaluation of the solution: one step is "
                             "thin.\n\nBased on my evaluation, the final overal score should "
                             "be:\n\\boxed{0.5}";
  const std::string meta = "</think>\nThe evaluation is fair.\n\\boxed{1}";
  scripted_model_dirs out{dir + "/generator", dir + "/verifier", dir + "/meta_verifier"};
  engine::init_random_model({.out_dir = out.generator, .script = gen});
  engine::init_random_model({.out_dir = out.verifier, .script = verify});
  engine::init_random_model({.out_dir = out.meta_verifier, .script = meta});
  return out;
}

/// The one scripted model every role of a combined worker shares, of family `arch`.
inline std::string make_combined_scripted_model(
    const std::string& dir, engine::model_arch arch = engine::model_arch::model_arch_llama) {
  const std::string all = std::string("</think>\n## Solution\n") + scripted_solution +
                          "\n## Self Evaluation\nHere is my evaluation of the solution: one "
                          "step is thin.\n\nBased on my evaluation, the final overal score "
                          "should be:\n\\boxed{0.5}";
  engine::init_random_model({.arch = arch, .out_dir = dir, .script = all});
  return dir;
}

} // namespace proofmesh::testing
