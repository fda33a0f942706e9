// The reference's pool rules, one by one, on synthetic pools: proof ids and dedup by text,
// merged ratings within a round, meanscore and score2ratings, ranking with random ties, the
// order of refinement sets, the rating assembly of a refinement prompt (with the cap of 8 that
// the reference leaks), and the final selection.
#include "actors/pipeline/proof_pool.hpp"

#include <gtest/gtest.h>

#include <set>

namespace proofmesh::pipeline {
namespace {

round_proof proof(std::string text, std::vector<double> scores, double self = 0,
                  std::vector<int32_t> deps = {}) {
  round_proof p{.proof = std::move(text), .self_eval = "eval", .self_eval_score = self,
                .dep_proof_ids = std::move(deps), .round_idx = 1};
  for (size_t i = 0; i < scores.size(); ++i) {
    std::string text = "r"; // += : GCC 12 reports a false -Wrestrict on "lit" + to_string
    text += std::to_string(i);
    text += "@";
    text += std::to_string(scores[i]);
    p.ratings.push_back({.rating = text, .score = scores[i]});
  }
  return p;
}

TEST(proof_pool, ids_rise_from_one_and_text_is_pooled_once) {
  proof_pool pool;
  EXPECT_EQ(pool.add_round({proof("A", {1, 0}), proof("B", {0.5})}),
            (std::vector<int32_t>{1, 2}));
  // Round 2: A again is skipped with its new ratings; C is new and takes id 3.
  auto ids = pool.add_round({proof("A", {1, 1, 1}), proof("C", {0}, 0, {1, 2})});
  EXPECT_EQ(ids, (std::vector<int32_t>{3}));
  ASSERT_EQ(pool.proofs().size(), 3u);
  EXPECT_EQ(pool.find(1)->num_ratings(), 2);
  EXPECT_DOUBLE_EQ(pool.find(1)->meanscore, 0.5);
  EXPECT_EQ(pool.find(3)->dep_proof_ids, (std::vector<int32_t>{1, 2}));
}

TEST(proof_pool, the_same_text_twice_in_a_round_is_one_proof_with_both_ratings) {
  proof_pool pool;
  round_proof first = proof("A", {1}, 1, {7});
  round_proof second = proof("A", {0, 0.5}, 0, {9});
  second.self_eval = "other";
  pool.add_round({first, second, proof("B", {1})});
  ASSERT_EQ(pool.proofs().size(), 2u);
  const pool_proof& a = pool.proofs()[0];
  EXPECT_EQ(a.proof_id, 1);
  EXPECT_EQ(a.num_ratings(), 3);
  EXPECT_DOUBLE_EQ(a.meanscore, 0.5);
  EXPECT_EQ(a.self_eval, "eval"); // the first one's
  EXPECT_EQ(a.dep_proof_ids, (std::vector<int32_t>{7}));
  // score2ratings: by score, ascending.
  std::vector<double> keys;
  for (const auto& [score, list] : a.score2ratings) keys.push_back(score);
  EXPECT_EQ(keys, (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(pool.proofs()[1].proof_id, 2);
}

TEST(proof_pool, a_proof_without_ratings_is_not_pooled_unless_none_were_asked) {
  proof_pool pool;
  EXPECT_TRUE(pool.add_round({proof("A", {})}).empty());
  EXPECT_TRUE(pool.empty());
  EXPECT_EQ(pool.add_round({proof("A", {})}, false), (std::vector<int32_t>{1}));
  EXPECT_DOUBLE_EQ(pool.proofs()[0].meanscore, 0);
}

TEST(proof_pool, solved_means_a_mean_above_the_bar) {
  proof_pool pool;
  pool.add_round({proof("A", {1, 1, 0.5})});
  EXPECT_FALSE(pool.solved(0.99999));
  pool.add_round({proof("B", {1, 1})});
  EXPECT_TRUE(pool.solved(0.99999));
}

TEST(proof_pool, ranking_is_by_mean_then_self_score_with_random_ties) {
  proof_pool pool;
  pool.add_round({proof("low", {0}), proof("tieA", {0.5}, 1), proof("tieB", {0.5}, 1),
                  proof("mid", {0.5}, 0), proof("top", {1, 0.5})});
  std::set<std::string> first_tie;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    search_random rng(seed);
    auto r = pool.ranked(rng, 10);
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0]->proof, "top");
    EXPECT_TRUE(r[1]->proof.starts_with("tie"));
    EXPECT_TRUE(r[2]->proof.starts_with("tie"));
    EXPECT_EQ(r[3]->proof, "mid");
    EXPECT_EQ(r[4]->proof, "low");
    first_tie.insert(r[1]->proof);
  }
  EXPECT_EQ(first_tie.size(), 2u) << "ties fall at random";
  search_random a(5), b(5);
  EXPECT_EQ(pool.ranked(a, 10)[1]->proof, pool.ranked(b, 10)[1]->proof) << "seeded";
  search_random c(1);
  EXPECT_EQ(pool.ranked(c, 2).size(), 2u);
}

TEST(proof_pool, refinement_sets_are_the_top_k_then_combinations_in_order) {
  search_random rng(3);
  // k = 1: the top one, then 0 again (a repeat, skipped), 1, 2, ...
  EXPECT_EQ(refinement_sets(5, 1, 3, rng),
            (std::vector<std::vector<size_t>>{{0}, {1}, {2}}));
  EXPECT_EQ(refinement_sets(2, 1, 32, rng).size(), 2u) << "no more sets than there are";
  // k = 2 of 4: the top two as ranked, then the other five pairs, in lexicographic order.
  auto sets = refinement_sets(4, 2, 32, rng);
  ASSERT_EQ(sets.size(), 6u);
  EXPECT_EQ(sets[0], (std::vector<size_t>{0, 1}));
  const std::vector<std::set<size_t>> order = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  for (size_t i = 0; i < sets.size(); ++i) {
    EXPECT_EQ(std::set<size_t>(sets[i].begin(), sets[i].end()), order[i]) << i;
  }
  // k larger than the pool: all of it.
  EXPECT_EQ(refinement_sets(2, 3, 4, rng), (std::vector<std::vector<size_t>>{{0, 1}}));
  EXPECT_TRUE(refinement_sets(0, 1, 4, rng).empty());
}

TEST(proof_pool, a_summary_numbers_solutions_and_evaluations_from_zero) {
  proof_pool pool;
  pool.add_round({proof("P0", {0.5, 0}), proof("P1", {1})});
  search_random rng(1);
  const std::string s = refinement_summary({&pool.proofs()[0], &pool.proofs()[1]}, {}, rng);
  EXPECT_EQ(s, "--- Solution 0 ---\nP0\n\n"
               "=== Evaluation 0 of Solution 0 ===\nr1@0.000000\n\n"
               "=== Evaluation 1 of Solution 0 ===\nr0@0.500000"
               "\n\n\n--- Solution 1 ---\nP1\n\n"
               "=== Evaluation 0 of Solution 1 ===\nr0@1.000000");
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(proof_pool, ratings_are_four_per_score_or_eight_of_one_and_never_more_than_eight) {
  proof_pool pool;
  std::vector<double> one_score(12, 0.5);
  std::vector<double> three_scores;
  for (double s : {0.0, 0.5, 1.0}) three_scores.insert(three_scores.end(), 6, s);
  std::vector<double> two_scores = {1, 1, 1, 1, 1, 0};
  pool.add_round({proof("one", one_score), proof("three", three_scores), proof("two", two_scores)});
  search_random rng(9);
  const std::string one = refinement_summary({&pool.proofs()[0]}, {}, rng);
  EXPECT_EQ(count(one, "=== Evaluation "), 8u);
  // Three scores of 6 each: 4 of 0, then 4 of 0.5, then the cap (the reference gives 12).
  const std::string three = refinement_summary({&pool.proofs()[1]}, {}, rng);
  EXPECT_EQ(count(three, "=== Evaluation "), 8u);
  EXPECT_EQ(count(three, "@0.000000"), 4u);
  EXPECT_EQ(count(three, "@0.500000"), 4u);
  EXPECT_EQ(count(three, "@1.000000"), 0u);
  EXPECT_NE(three.find("=== Evaluation 7 of Solution 0 ==="), std::string::npos);
  // Two scores: 1 of 0 and 4 of the five 1s, the lowest score first.
  const std::string two = refinement_summary({&pool.proofs()[2]}, {}, rng);
  EXPECT_EQ(count(two, "=== Evaluation "), 5u);
  EXPECT_LT(two.find("@0.000000"), two.find("@1.000000"));
  // The paper's heavy search: 8 per score, lowest first.
  const std::string heavy =
      refinement_summary({&pool.proofs()[1]}, {.ratings_per_score = 8}, rng);
  EXPECT_EQ(count(heavy, "@0.000000"), 6u);
  EXPECT_EQ(count(heavy, "@0.500000"), 2u);
}

TEST(proof_pool, shuffling_within_a_score_is_seeded) {
  proof_pool pool;
  pool.add_round({proof("P", {0.5, 0.5, 0.5, 0.5, 0.5})});
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    search_random rng(seed);
    seen.insert(refinement_summary({&pool.proofs()[0]}, {}, rng));
  }
  EXPECT_GT(seen.size(), 1u);
  search_random a(4), b(4);
  EXPECT_EQ(refinement_summary({&pool.proofs()[0]}, {}, a),
            refinement_summary({&pool.proofs()[0]}, {}, b));
}

TEST(proof_pool, the_final_selection_is_mean_then_self_score_then_verifications) {
  proof_pool pool;
  pool.add_round({proof("A", {1, 0.5}, 1), proof("B", {0.5, 1, 0.5, 1}, 1),
                  proof("C", {0.75}, 0.5), proof("D", {1, 0.5}, 0)});
  EXPECT_EQ(pool.best()->proof, "B"); // A and B tie on mean and self score; B has more ratings
  proof_pool ties;
  ties.add_round({proof("X", {1, 0}), proof("Y", {0, 1})});
  EXPECT_EQ(ties.best()->proof_id, 1);
  EXPECT_EQ(proof_pool().best(), nullptr);
}

} // namespace
} // namespace proofmesh::pipeline
