// Role templates: the official file and our shipped default both load; a task of each kind
// renders as the reference renders it (the official templates against rendered-examples.jsonl,
// refinement included); a file with a missing, unknown or mis-fielded template is refused.
#include "actors/roles/role_templates.hpp"

#include "actors/common/error.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/shared_path.hpp"
#include "tests/support/source_path.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace proofmesh::roles {
namespace {

using namespace transport;

TEST(role_templates, official_templates_render_each_task_kind_as_the_reference) {
  PM_SKIP_WITHOUT_SHARED();
  role_templates t = role_templates::from_file(testing::shared_path("dsm2/templates.json"));
  std::istringstream lines(testing::read_file(testing::shared_path("dsm2/rendered-examples.jsonl")));
  std::map<std::string, nlohmann::json> ex;
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    ex[j["template"]] = j;
  }
  const nlohmann::json& g = ex.at("proof_generation")["args"];
  EXPECT_TRUE(t.render(generate_input{g["question"], ""}) ==
              ex.at("proof_generation")["rendered"].get<std::string>());
  const nlohmann::json& v = ex.at("proof_verification")["args"];
  EXPECT_TRUE(t.render(verify_input{v["statement"], v["proof"]}) ==
              ex.at("proof_verification")["rendered"].get<std::string>());
  const nlohmann::json& m = ex.at("meta_verification")["args"];
  EXPECT_TRUE(t.render(meta_verify_input{m["statement"], m["proof"], m["rating"]}) ==
              ex.at("meta_verification")["rendered"].get<std::string>());
  // Refinement: the example's instruction is the generation example's rendered prompt (the same
  // problem), so a refinement task of that problem must render the refinement example.
  const nlohmann::json& r = ex.at("proof_refinement")["args"];
  ASSERT_EQ(r["instruction"], ex.at("proof_generation")["rendered"]);
  EXPECT_TRUE(t.render(generate_input{g["question"], r["proofs_to_refine"]}) ==
              ex.at("proof_refinement")["rendered"].get<std::string>());
}

TEST(role_templates, the_shipped_default_loads_and_renders) {
  role_templates t =
      role_templates::from_file(testing::source_path("deploy/templates/proofmesh-default.json"));
  const std::string p = t.render(verify_input{"PROBLEM", "PROOF"});
  EXPECT_NE(p.find("PROBLEM"), std::string::npos);
  EXPECT_NE(p.find("PROOF"), std::string::npos);
  EXPECT_NE(p.find("\\boxed{}"), std::string::npos); // {{}} rendered as literal braces
  EXPECT_NE(t.render(generate_input{"Q", "EARLIER"}).find("EARLIER"), std::string::npos);
}

TEST(role_templates, bad_files_are_refused_by_name) {
  const std::string good =
      R"({"proof_generation": "{question}", "proof_verification": "{statement}{proof}",
          "meta_verification": "{statement}{proof}{rating}",
          "proof_refinement": "{instruction}{proofs_to_refine}"})";
  EXPECT_NO_THROW(role_templates::from_json_text(good, "t.json"));
  auto refused = [](const std::string& text) {
    try {
      role_templates::from_json_text(text, "t.json");
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused("[1]").find("not a JSON object"), std::string::npos);
  nlohmann::json j = nlohmann::json::parse(good);
  j.erase("proof_refinement");
  EXPECT_NE(refused(j.dump()).find("proof_refinement"), std::string::npos);
  j = nlohmann::json::parse(good);
  j["extra"] = "x";
  EXPECT_NE(refused(j.dump()).find("unknown template \"extra\""), std::string::npos);
  j = nlohmann::json::parse(good);
  j["proof_verification"] = "{statement}";
  EXPECT_NE(refused(j.dump()).find("must use exactly"), std::string::npos);
}

} // namespace
} // namespace proofmesh::roles
