// The presets carry the reference's numbers (main.py, run.sh, the paper's sections 3.3.2 and
// 3.3.3), every parameter can be overridden and is checked, and unknown names are refused.
#include "actors/pipeline/strategy.hpp"

#include "actors/common/error.hpp"

#include <gtest/gtest.h>

namespace proofmesh::pipeline {
namespace {

TEST(strategy, presets_carry_the_reference_numbers) {
  const search_params ref = strategy_preset("reference");
  EXPECT_EQ(ref.num_proofs, 128);
  EXPECT_EQ(ref.verifications_per_proof, 4);
  EXPECT_EQ(ref.meta_verifications_per_rating, 1);
  EXPECT_EQ(ref.best_proofs, 32);
  EXPECT_EQ(ref.proofs_per_refinement, 1);
  EXPECT_EQ(ref.refinements, 32);
  EXPECT_EQ(ref.max_rounds, 20);
  EXPECT_EQ(ref.samples_per_refinement(), 4);
  EXPECT_EQ(ref.sampling.max_tokens, 128 * 1024);
  EXPECT_EQ(ref.verify_max_tokens, 64 * 1024);
  EXPECT_FLOAT_EQ(ref.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(ref.sampling.top_p, 0.95f);
  const search_params rel = strategy_preset("release");
  EXPECT_EQ(rel.verifications_per_proof, 64);
  EXPECT_EQ(rel.meta_verifications_per_rating, 0);
  EXPECT_EQ(rel.max_rounds, 16);
  const search_params heavy = strategy_preset("paper-heavy");
  EXPECT_EQ(heavy.num_proofs, 64);
  EXPECT_EQ(heavy.verifications_per_proof, 64);
  EXPECT_EQ(heavy.best_proofs, 64);
  EXPECT_EQ(heavy.samples_per_refinement(), 1);
  EXPECT_EQ(heavy.ratings_per_score, 8);
  EXPECT_EQ(heavy.max_rounds, 17);
  const search_params self = strategy_preset("self-refine");
  EXPECT_EQ(self.mode, search_mode::search_mode_self_refine);
  EXPECT_EQ(self.num_proofs, 32);
  EXPECT_EQ(self.max_rounds, 8);
  EXPECT_EQ(self.verifications_per_proof, 32);
  EXPECT_LE(strategy_preset("quick").num_proofs, 8);
}

TEST(strategy, every_parameter_overrides_and_is_checked) {
  const nlohmann::json all = strategy_json(strategy_preset("quick"));
  nlohmann::json overrides = all;
  overrides.erase("strategy");
  // Every parameter the JSON names reads back: the two tables agree.
  const search_params same = parse_strategy("quick", overrides);
  EXPECT_EQ(strategy_json(same), all);
  const search_params p =
      parse_strategy("release", {{"max_rounds", 3}, {"meta_counts", true}, {"top_p", 0.5}});
  EXPECT_EQ(p.max_rounds, 3);
  EXPECT_TRUE(p.meta_counts);
  EXPECT_EQ(p.verifications_per_proof, 64) << "the rest stays the preset's";
  auto why = [](const std::string& name, const nlohmann::json& o) {
    try {
      parse_strategy(name, o);
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(why("nope", {}).find("paper-heavy"), std::string::npos);
  EXPECT_NE(why("quick", {{"max_roundz", 1}}).find("max_roundz"), std::string::npos);
  EXPECT_NE(why("quick", {{"max_rounds", 0}}).find("params.max_rounds"), std::string::npos);
  EXPECT_NE(why("quick", {{"max_tokens", 0}}).find("params.max_tokens must"), std::string::npos);
  EXPECT_NE(why("quick", {{"meta_counts", 1}}).find("meta_counts"), std::string::npos);
  EXPECT_NE(why("quick", {{"solved_above", 2}}).find("solved_above"), std::string::npos);
  EXPECT_NE(why("quick", {{"proofs_per_refinement", 4}}).find("best_proofs"), std::string::npos);
  EXPECT_NE(why("quick", nlohmann::json::array()).find("object"), std::string::npos);
}

} // namespace
} // namespace proofmesh::pipeline
