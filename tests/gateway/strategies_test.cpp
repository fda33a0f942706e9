// Every strategy preset runs a job end to end through the real gateway, Redis, coordinator and
// role workers on the scripted tiny models, scaled down by per-job overrides, and ends with the
// counts its shape predicts. The scripted generator always writes one proof text (self-score
// 1) and the verifier rates it 0.5, so: the pool holds one proof (dedup by text), every round
// runs (nothing passes), and a self-refinement thread ends after its first iteration.
#include "tests/gateway/mesh_fixture.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/shared_path.hpp"

#include <fstream>
#include <set>

namespace proofmesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace testing; // the fixture's names

class strategies_test : public mesh_fixture {
protected:
  void export_in_the_reference_formats(const std::string& id);
};

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
  export_in_the_reference_formats(ids[0]);
}

// One combined worker (--roles generator,verifier,meta_verifier: one engine, one copy of the
// weights) runs a whole job, and its slots, shared by the three roles, serve each of them: the
// counts are exactly those of dedicated workers (the quick case above), and the worker's own
// metrics count every task under its role.
TEST_F(strategies_test, one_combined_worker_runs_a_job_with_the_counts_of_dedicated_ones) {
  start_gateway();
  const int metrics_port = free_port();
  start_combined_mesh(/*slots=*/6, metrics_port);
  const std::string id = submit({{"problems", {{{"question", "Prove that 2 is even."}}}},
                                 {"strategy", "quick"}});
  json s = wait_status(id, "completed", 300s);
  ASSERT_EQ(s["status"], "completed") << s.dump() << log("coordinator") << log("combined-0");
  json result = json::parse(call("GET", "/v1/jobs/" + id + "/result").body);
  const json& p = result["problems"][0];
  EXPECT_EQ(p["rounds"], 2);
  EXPECT_EQ(p["counts"]["proofs"], 6);
  EXPECT_EQ(p["counts"]["ratings"], 12);
  EXPECT_EQ(p["counts"]["meta_ratings"], 12);
  EXPECT_EQ(p["pool_size"], 1);
  EXPECT_EQ(p["best"]["proof"], scripted_solution);
  EXPECT_EQ(p["best"]["meanscore"], 0.5);
  EXPECT_EQ(p["best"]["verifications"], 8);
  const std::string metrics = http_get(metrics_port, "/metrics").body;
  for (const auto& [role, tasks] : {std::pair{"generator", 6}, std::pair{"verifier", 12},
                                    std::pair{"meta_verifier", 12}}) {
    EXPECT_NE(metrics.find(std::string("proofmesh_worker_tasks_total{role=\"") + role +
                           "\",status=\"ok\"} " + std::to_string(tasks) + "\n"),
              std::string::npos)
        << role << "\n" << metrics;
  }
  EXPECT_NE(log("combined-0").find("serving meta_verifier tasks from"), std::string::npos);
}

// DeepSeek-V3.2 end to end on the CPU: MLA over the latent cache, the indexer keeping 16 keys of
// prompts far longer, MoE, and its chat format with thinking on for the roles' prompts.
TEST_F(strategies_test, a_quick_job_runs_on_a_tiny_deepseek_v32_model) {
  start_gateway();
  start_combined_mesh(/*slots=*/6, free_port(), engine::model_arch::model_arch_deepseek_v32);
  const std::string id = submit({{"problems", {{{"question", "Prove that 2 is even."}}}},
                                 {"strategy", "quick"}});
  json s = wait_status(id, "completed", 300s);
  ASSERT_EQ(s["status"], "completed") << s.dump() << log("coordinator") << log("combined-0");
  json result = json::parse(call("GET", "/v1/jobs/" + id + "/result").body);
  const json& p = result["problems"][0];
  EXPECT_EQ(p["counts"]["proofs"], 6);
  EXPECT_EQ(p["counts"]["ratings"], 12);
  EXPECT_EQ(p["counts"]["meta_ratings"], 12);
  EXPECT_EQ(p["best"]["proof"], scripted_solution);
  EXPECT_EQ(p["best"]["meanscore"], 0.5);
}

// The acceptance command: `proofmesh submit ../shared/dsm2/inputs/IMO2025.json --strategy quick
// --watch` shows each problem's progress and the final selection.
TEST_F(strategies_test, submit_watch_shows_each_problem_and_the_final_selection) {
  PM_SKIP_WITHOUT_SHARED();
  start_gateway();
  start_mesh();
  auto watched = run_command(std::string(PM_BUILD_DIR) + "/proofmesh submit " +
                                 shared_path("dsm2/inputs/IMO2025.json") +
                                 " --strategy quick --watch --gateway http://127.0.0.1:" +
                                 std::to_string(port_) + " --api-key key-alpha",
                             dir_.str("watch.err"));
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  for (int i = 1; i <= 6; ++i) {
    const std::string p = "IMO2025-" + std::to_string(i);
    EXPECT_NE(watched.err.find(p + ": round 1 closed, pool 1, best mean 0.500"), std::string::npos)
        << watched.err;
    EXPECT_NE(watched.err.find(p + ": unsolved after 2 rounds, best proof #1 mean 0.500 over 8 "
                                   "verifications"),
              std::string::npos)
        << watched.err;
    EXPECT_NE(watched.err.find("  " + p + ": unsolved, proof #1 mean 0.500 over 8 verifications: "
                                          "By the scripted argument"),
              std::string::npos);
  }
  EXPECT_NE(watched.err.find("final selection (0 of 6 solved):"), std::string::npos);
}

std::vector<json> jsonl(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

// `proofmesh export`, through the gateway and straight from Redis: the pool file in main.py's
// pool schema, and outputs.jsonl shaped like the reference's outputs.
void strategies_test::export_in_the_reference_formats(const std::string& id) {
  const std::string cli = std::string(PM_BUILD_DIR) + "/proofmesh export " + id;
  const std::string via_gateway =
      " --gateway http://127.0.0.1:" + std::to_string(port_) + " --api-key key-alpha";
  auto done = run_command(cli + via_gateway + " --out " + dir_.str("exported"),
                          dir_.str("export.err"));
  ASSERT_EQ(done.exit_code, 0) << done.err;
  std::vector<json> pool = jsonl(dir_.str("exported/proof_pool/" + id + "/p0.jsonl"));
  ASSERT_EQ(pool.size(), 1u);
  std::set<std::string> keys;
  for (const auto& [k, v] : pool[0].items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"proof", "meanscore", "score2ratings", "self_eval",
                                          "proof_id", "dep_proof_ids", "round_idx"}));
  EXPECT_EQ(pool[0]["score2ratings"]["0.5"].size(), 8u);
  std::vector<json> outputs = jsonl(dir_.str("exported/outputs.jsonl"));
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].dump(), json::parse(R"({"question": "Prove that 2 is even.",
      "problem_idx": "p0", "model_prediction": {"average_automatic_rating": 0.5,
      "proof": "By the scripted argument, the claim holds."}})").dump());
  if (shared_available()) { // the reference's own outputs carry the same fields (and more)
    std::ifstream ref(shared_path("dsm2/outputs/IMO2025.jsonl"));
    std::string line;
    std::getline(ref, line);
    const json r = json::parse(line);
    for (const auto& [k, v] : outputs[0].items()) EXPECT_TRUE(r.contains(k)) << k;
    for (const auto& [k, v] : outputs[0]["model_prediction"].items()) {
      EXPECT_TRUE(r["model_prediction"].contains(k)) << k;
    }
  }
  // Straight from Redis: the same files.
  auto direct = run_command(cli + " --queue redis://:" + redis_.password() + "@127.0.0.1:" +
                                std::to_string(redis_.port()) + " --out " + dir_.str("direct"),
                            dir_.str("direct.err"));
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(read_file(dir_.str("direct/outputs.jsonl")), read_file(dir_.str("exported/outputs.jsonl")));
  EXPECT_EQ(read_file(dir_.str("direct/proof_pool/" + id + "/p0.jsonl")),
            read_file(dir_.str("exported/proof_pool/" + id + "/p0.jsonl")));
  // A job that is not there: the gateway's code, exit 2.
  auto missing = run_command(std::string(PM_BUILD_DIR) + "/proofmesh export nope" + via_gateway,
                             dir_.str("missing.err"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("job_not_found"), std::string::npos) << missing.err;
  // The pool endpoint pages, and names a bad problem.
  json page = json::parse(call("GET", "/v1/jobs/" + id + "/pool/p0?after=0&limit=1").body);
  EXPECT_EQ(page["total"], 1);
  EXPECT_FALSE(page.contains("next_after"));
  EXPECT_EQ(error_code(call("GET", "/v1/jobs/" + id + "/pool/no%20such")), "problem_not_found");
}

} // namespace
} // namespace proofmesh
