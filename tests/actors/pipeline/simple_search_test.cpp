// The simple strategy as a state machine: n proofs fan out into m verifications each as soon as
// each proof lands, low ratings into meta-verifications, failed tasks are retried up to the
// limit, duplicates and stray results change nothing, the best proof wins by mean score, and
// the same results in another order give the same state.
#include "actors/pipeline/simple_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>

namespace proofmesh::pipeline {
namespace {

using namespace transport;

// Answers like a worker would, from the task id alone (deterministic): proof p rates (p % 3) / 2
// by every verifier, so proof 2 (rating 1.0) is best; meta-verifications judge 1.
task_result_msg answer(const task_msg& t) {
  task_result_msg r{.task_id = t.task_id};
  const std::string& id = t.task_id;
  if (std::holds_alternative<generate_input>(t.input)) {
    const int p = id.back() - '0';
    r.output = generate_output{"proof " + std::to_string(p), "eval", 0.5f};
  } else if (std::holds_alternative<verify_input>(t.input)) {
    const int p = std::get<verify_input>(t.input).solution.back() - '0';
    r.output = verify_output{"rating", static_cast<float>(p % 3) / 2.0f};
  } else {
    r.output = meta_verify_output{"fair", 1.0f};
  }
  return r;
}

search_counts run_all(simple_search& s, std::mt19937* shuffle = nullptr) {
  std::deque<task_msg> queue;
  for (auto& t : s.start()) queue.push_back(t);
  while (!queue.empty()) {
    if (shuffle != nullptr) {
      std::shuffle(queue.begin(), queue.end(), *shuffle);
    }
    task_msg t = queue.front();
    queue.pop_front();
    for (auto& next : s.on_result(answer(t))) queue.push_back(next);
  }
  return s.counts();
}

TEST(simple_search, fans_out_without_barriers_and_picks_the_best) {
  simple_search s("job", "p0", "Q", {.num_proofs = 3, .verifications_per_proof = 4});
  auto gens = s.start();
  ASSERT_EQ(gens.size(), 3u);
  EXPECT_EQ(gens[1].task_id, "job/p0/r0/gen/1");
  // One proof lands: its 4 verifications go out at once, the other proofs still pending.
  auto verifies = s.on_result(answer(gens[1]));
  ASSERT_EQ(verifies.size(), 4u);
  EXPECT_EQ(verifies[3].task_id, "job/p0/r0/verify/1/3");
  // Proof 1 rates 0.5 <= 0.75: each rating brings one meta-verification.
  auto metas = s.on_result(answer(verifies[0]));
  ASSERT_EQ(metas.size(), 1u);
  EXPECT_EQ(metas[0].task_id, "job/p0/r0/meta/1/0/0");
  EXPECT_FALSE(s.done());

  simple_search full("job", "p0", "Q", {.num_proofs = 3, .verifications_per_proof = 4});
  search_counts c = run_all(full);
  EXPECT_TRUE(full.done());
  EXPECT_EQ(c.proofs, 3);
  EXPECT_EQ(c.ratings, 12);
  EXPECT_EQ(c.meta_ratings, 8); // proofs 0 (0.0) and 1 (0.5) are meta-verified, 2 (1.0) is not
  ASSERT_TRUE(full.best().has_value());
  EXPECT_EQ(full.best()->index, 2);
  EXPECT_EQ(full.best()->mean_score(), 1.0);
  EXPECT_EQ(full.proofs().at(1).ratings.at(0).meta.size(), 1u);
}

TEST(simple_search, any_order_gives_the_same_outcome) {
  simple_search a("job", "p0", "Q", {}), b("job", "p0", "Q", {});
  std::mt19937 rng(3);
  search_counts ca = run_all(a), cb = run_all(b, &rng);
  EXPECT_EQ(ca.proofs, cb.proofs);
  EXPECT_EQ(ca.ratings, cb.ratings);
  EXPECT_EQ(ca.meta_ratings, cb.meta_ratings);
  EXPECT_EQ(a.best()->index, b.best()->index);
}

// A resumed job replays its ledger in hash order: ratings can come before their proofs.
TEST(simple_search, a_replay_in_any_order_rebuilds_the_same_state_with_nothing_open) {
  const search_params params{.num_proofs = 4, .verifications_per_proof = 3};
  simple_search live("job", "p0", "Q", params);
  std::vector<task_result_msg> ledger;
  std::deque<task_msg> queue;
  for (auto& t : live.start()) queue.push_back(t);
  while (!queue.empty()) {
    task_msg t = queue.front();
    queue.pop_front();
    ledger.push_back(answer(t));
    for (auto& next : live.on_result(ledger.back())) queue.push_back(next);
  }
  for (int order = 0; order < 3; ++order) {
    std::vector<task_result_msg> replay = ledger;
    if (order == 1) std::reverse(replay.begin(), replay.end());
    if (order == 2) std::shuffle(replay.begin(), replay.end(), std::mt19937(7));
    simple_search resumed("job", "p0", "Q", params);
    resumed.start();
    for (const task_result_msg& r : replay) resumed.on_result(r);
    EXPECT_TRUE(resumed.done()) << "order " << order << ": "
                                << resumed.open_tasks().size() << " tasks left open";
    EXPECT_EQ(resumed.counts().proofs, live.counts().proofs);
    EXPECT_EQ(resumed.counts().ratings, live.counts().ratings);
    EXPECT_EQ(resumed.counts().meta_ratings, live.counts().meta_ratings);
    EXPECT_EQ(resumed.best()->index, live.best()->index);
  }
}

TEST(simple_search, duplicates_strays_and_mismatches_change_nothing) {
  simple_search s("job", "p0", "Q", {.num_proofs = 1, .verifications_per_proof = 2});
  auto gens = s.start();
  auto verifies = s.on_result(answer(gens[0]));
  EXPECT_TRUE(s.on_result(answer(gens[0])).empty()); // a duplicate delivery
  EXPECT_TRUE(s.on_result({.task_id = "job/p0/r0/gen/9",
                           .output = generate_output{"x", "y", 1}}).empty()); // never issued
  // A verification answered with a generator's output counts as given up, not as a rating.
  EXPECT_TRUE(s.on_result({.task_id = verifies[0].task_id,
                           .output = generate_output{"x", "y", 1}}).empty());
  EXPECT_EQ(s.counts().proofs, 1);
  EXPECT_EQ(s.counts().ratings, 0);
  EXPECT_EQ(s.counts().given_up, 1);
}

TEST(simple_search, failed_tasks_are_retried_then_given_up) {
  simple_search s("job", "p0", "Q", {.num_proofs = 1, .max_attempts = 3});
  auto gens = s.start();
  task_result_msg failed{.task_id = gens[0].task_id, .status = task_status::task_status_failed,
                         .error = "worker died"};
  auto retry = s.on_result(failed);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].attempt, 1u);
  EXPECT_EQ(s.on_result(failed).size(), 1u); // attempt 2
  EXPECT_TRUE(s.on_result(failed).empty());  // the third failure gives up
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.counts().given_up, 1);
  EXPECT_FALSE(s.best().has_value());
}

} // namespace
} // namespace proofmesh::pipeline
