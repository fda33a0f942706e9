// A pooled proof in the reference's pool schema: field names, the self_eval object, score keys
// as Python writes float keys, ratings with their meta-verifications; ours only when used.
#include "actors/pipeline/pool_record.hpp"

#include <gtest/gtest.h>

namespace proofmesh::pipeline {
namespace {

TEST(pool_record, float_keys_read_as_python_writes_them) {
  EXPECT_EQ(python_float_repr(1), "1.0");
  EXPECT_EQ(python_float_repr(0), "0.0");
  EXPECT_EQ(python_float_repr(0.5), "0.5");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(0.75), "0.75");
}

TEST(pool_record, the_reference_schema_and_nothing_else_unless_used) {
  proof_pool pool;
  round_proof r{.proof = "P", .self_eval = "E", .self_eval_score = 1, .dep_proof_ids = {},
                .round_idx = 2};
  r.ratings.push_back({.rating = "ok", .score = 1, .quality = {{"fair", 1}}});
  r.ratings.push_back({.rating = "gap", .score = 0.5});
  pool.add_round({r});
  const nlohmann::json j = pool_record_json(pool.proofs()[0]);
  EXPECT_EQ(j, nlohmann::json::parse(R"({
    "proof": "P", "meanscore": 0.75,
    "score2ratings": {"0.5": [{"rating": "gap", "quality": [], "score": 0.5}],
                      "1.0": [{"rating": "ok", "quality": [{"quality": "fair", "score": 1.0}],
                               "score": 1.0}]},
    "self_eval": {"self_eval": "E", "self_eval_score": 1.0},
    "proof_id": 1, "dep_proof_ids": [], "round_idx": 2})"));
  r.proof = "Q";
  r.dropped.push_back({.rating = "unfair", .score = 0});
  pool.add_round({r});
  EXPECT_EQ(pool_record_json(pool.proofs()[1])["dropped_ratings"][0]["rating"], "unfair");
}

} // namespace
} // namespace proofmesh::pipeline
