// Every strategy preset runs a job end to end through the real gateway, Redis, coordinator and
// role workers on the scripted tiny models, scaled down by per-job overrides, and ends with the
// counts its shape predicts. The scripted generator always writes one proof text (self-score
// 1) and the verifier rates it 0.5, so: the pool holds one proof (dedup by text), every round
// runs (nothing passes), and a self-refinement thread ends after its first iteration.
#include "tests/gateway/mesh_fixture.hpp"

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace testing; // the fixture's names

class strategies_test : public mesh_fixture {};

struct expected {
  std::string strategy;
  json params;
  int rounds, proofs, ratings, meta_ratings, best_verifications;
};

TEST_F(strategies_test, each_preset_completes_a_job_with_the_counts_its_shape_predicts) {
  start_gateway();
  start_mesh();
  const std::vector<expected> cases = {
      // 4 proofs x 2 ratings, each meta-verified; round 2: one prompt (one pooled proof) x 2.
      {"quick", json::object(), 2, 6, 12, 12, 8},
      {"reference",
       {{"num_proofs", 4}, {"verifications_per_proof", 2}, {"best_proofs", 2},
        {"refinements", 2}, {"max_rounds", 2}},
       2, 6, 12, 12, 8},
      // No meta-verification; 3 ratings a proof.
      {"release",
       {{"num_proofs", 4}, {"verifications_per_proof", 3}, {"refinements", 2}, {"max_rounds", 2}},
       2, 6, 18, 0, 12},
      // One refined proof per pairing: rounds 2 and 3 hold one proof each.
      {"paper-heavy",
       {{"num_proofs", 4}, {"verifications_per_proof", 4}, {"best_proofs", 4},
        {"refinements", 4}, {"max_rounds", 3}},
       3, 6, 24, 0, 16},
      // Three threads, each scoring itself 1 at once: verified, then Best@3.
      {"self-refine", {{"num_proofs", 3}, {"verifications_per_proof", 2}, {"max_rounds", 2}},
       1, 3, 6, 0, 6},
  };
  std::vector<std::string> ids;
  for (const expected& c : cases) {
    ids.push_back(submit({{"problems", {{{"question", "Prove that 2 is even."}}}},
                          {"strategy", c.strategy},
                          {"params", c.params}}));
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    const expected& c = cases[i];
    json s = wait_status(ids[i], "completed", 300s);
    ASSERT_EQ(s["status"], "completed") << c.strategy << s.dump() << log("coordinator");
    json result = json::parse(call("GET", "/v1/jobs/" + ids[i] + "/result").body);
    const json& p = result["problems"][0];
    EXPECT_EQ(p["status"], "unsolved") << c.strategy << p.dump();
    EXPECT_EQ(p["rounds"], c.rounds) << c.strategy;
    EXPECT_EQ(p["counts"]["proofs"], c.proofs) << c.strategy;
    EXPECT_EQ(p["counts"]["ratings"], c.ratings) << c.strategy;
    EXPECT_EQ(p["counts"]["meta_ratings"], c.meta_ratings) << c.strategy;
    EXPECT_EQ(p["pool_size"], 1) << c.strategy;
    EXPECT_EQ(p["best"]["proof"], scripted_solution) << c.strategy;
    EXPECT_EQ(p["best"]["meanscore"], 0.5) << c.strategy;
    EXPECT_EQ(p["best"]["verifications"], c.best_verifications) << c.strategy;
    EXPECT_EQ(result["solved"], 0);
  }
}

} // namespace
} // namespace proofmesh
