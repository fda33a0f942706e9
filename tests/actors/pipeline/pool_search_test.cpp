// The reference's search, streamed, as a state machine: proofs fan out into verifications the
// moment they land, rounds refine from the pool, a passing proof stops the problem mid-round,
// an empty round is run again, failed tasks are retried then dead-lettered, truncations are
// counted, meta-verification can count, and any delivery order (a replay included) gives the
// same pool.
#include "actors/pipeline/proof_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <random>
#include <set>

namespace proofmesh::pipeline {
namespace {

using namespace transport;
using answerer = std::function<task_result_msg(const task_msg&)>;

// A proof's text names its task; proof p of a round rates (p % 2) / 2 (never a pass), unless
// `pass` names its slot; meta-verifications judge 1.
answerer scores(int pass_slot = -1) {
  return [pass_slot](const task_msg& t) {
    task_result_msg r{.task_id = t.task_id};
    if (std::holds_alternative<generate_input>(t.input)) {
      r.output = generate_output{"proof of " + t.task_id, "eval", 0.5f};
    } else if (const auto* v = std::get_if<verify_input>(&t.input)) {
      const int slot = v->solution.back() - '0';
      r.output = verify_output{"rating of " + t.task_id,
                               slot == pass_slot ? 1.0f : static_cast<float>(slot % 2) / 2.0f};
    } else {
      r.output = meta_verify_output{"fair", 1.0f};
    }
    return r;
  };
}

struct run_result {
  std::vector<task_msg> sent;
  std::vector<std::string> withdrawn;
};

// Delivers every task's answer (in a shuffled order when asked) until nothing is open.
run_result run(proof_search& s, const answerer& answer, std::mt19937* shuffle = nullptr) {
  run_result out;
  std::deque<task_msg> queue;
  auto take = [&](search_step step) {
    for (auto& t : step.send) queue.push_back(t), out.sent.push_back(t);
    for (auto& t : step.retry) queue.push_back(t), out.sent.push_back(t);
    for (auto& w : step.withdraw) out.withdrawn.push_back(w);
  };
  take(s.start());
  while (!queue.empty()) {
    if (shuffle != nullptr) std::shuffle(queue.begin(), queue.end(), *shuffle);
    task_msg t = queue.front();
    queue.pop_front();
    take(s.on_result(answer(t)));
  }
  return out;
}

search_params small() {
  search_params p = strategy_preset("quick"); // 4 proofs, 2 verifications, 2 rounds
  p.meta_verifications_per_rating = 1;
  return p;
}

std::unique_ptr<proof_search> make(search_params p, bool replaying = false) {
  return proof_search::make({.job_id = "job", .problem_id = "p0", .question = "  Q \n",
                             .params = p, .replaying = replaying});
}

TEST(pool_search, a_proof_fans_out_the_moment_it_lands) {
  auto s = make(small());
  search_step first = s->start();
  ASSERT_EQ(first.send.size(), 4u);
  EXPECT_EQ(first.send[1].task_id, "job/p0/r1/gen/1");
  EXPECT_EQ(std::get<generate_input>(first.send[1].input).problem, "Q") << "stripped";
  EXPECT_EQ(first.send[1].sampling.max_tokens, 4096);
  search_step v = s->on_result(scores()(first.send[1]));
  ASSERT_EQ(v.send.size(), 2u);
  EXPECT_EQ(v.send[1].task_id, "job/p0/r1/verify/1/1");
  // Proof 1 rates 0.5 <= 0.75: its rating brings a meta-verification, at once.
  search_step m = s->on_result(scores()(v.send[0]));
  ASSERT_EQ(m.send.size(), 1u);
  EXPECT_EQ(m.send[0].task_id, "job/p0/r1/meta/1/0/0");
  EXPECT_EQ(std::get<meta_verify_input>(m.send[0].input).rating, "rating of job/p0/r1/verify/1/0");
  EXPECT_TRUE(s->on_result(scores()(v.send[0])).send.empty()) << "a duplicate changes nothing";
}

TEST(pool_search, rounds_refine_from_the_pool_until_the_rounds_are_used_up) {
  search_params p = small();
  p.max_rounds = 3;
  auto s = make(p);
  run_result r = run(*s, scores());
  EXPECT_EQ(s->status(), problem_status::problem_status_unsolved);
  EXPECT_EQ(s->counts().rounds, 3);
  // Round 1: 4 proofs; rounds 2 and 3: 2 refinement prompts × 4/2 samples.
  size_t gens = 0, refinements = 0;
  for (const task_msg& t : r.sent) {
    if (const auto* g = std::get_if<generate_input>(&t.input)) {
      ++gens;
      if (!g->refinement_context.empty()) {
        ++refinements;
        EXPECT_TRUE(g->refinement_context.starts_with("--- Solution 0 ---\nproof of job/p0/r"));
        EXPECT_NE(g->refinement_context.find("=== Evaluation 0 of Solution 0 ==="),
                  std::string::npos);
      }
    }
  }
  EXPECT_EQ(gens, 12u);
  EXPECT_EQ(refinements, 8u);
  ASSERT_EQ(s->pool().proofs().size(), 12u);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(s->pool().proofs()[i].proof_id, int32_t(i + 1));
  // A round-2 proof names the pool proof its prompt held; the top ones rate 0.5.
  const pool_proof& refined = s->pool().proofs()[4];
  EXPECT_EQ(refined.round_idx, 2);
  ASSERT_EQ(refined.dep_proof_ids.size(), 1u);
  EXPECT_DOUBLE_EQ(s->pool().find(refined.dep_proof_ids[0])->meanscore, 0.5);
  EXPECT_EQ(s->counts().ratings, 24);
  EXPECT_EQ(s->counts().meta_ratings, 24);
  EXPECT_EQ(s->counts().meta_agreed, 24);
  EXPECT_DOUBLE_EQ(s->pool().best()->meanscore, 0.5);
}

TEST(pool_search, any_order_and_a_replay_give_the_same_pool) {
  search_params p = small();
  p.max_rounds = 3;
  auto straight = make(p);
  run(*straight, scores());
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    std::mt19937 g(seed);
    auto shuffled = make(p);
    run_result r = run(*shuffled, scores(), &g);
    ASSERT_EQ(shuffled->pool().proofs().size(), straight->pool().proofs().size());
    for (size_t i = 0; i < straight->pool().proofs().size(); ++i) {
      EXPECT_EQ(shuffled->pool().proofs()[i].proof, straight->pool().proofs()[i].proof);
      EXPECT_EQ(shuffled->pool().proofs()[i].dep_proof_ids,
                straight->pool().proofs()[i].dep_proof_ids);
    }
    // A resumed coordinator: every recorded result, in hash order, into fresh state.
    std::vector<task_result_msg> ledger;
    for (const task_msg& t : r.sent) ledger.push_back(scores()(t));
    std::shuffle(ledger.begin(), ledger.end(), g);
    auto resumed = make(p, true);
    resumed->start();
    for (const auto& result : ledger) resumed->on_result(result);
    search_step after = resumed->resume();
    EXPECT_TRUE(after.send.empty());
    EXPECT_TRUE(resumed->done());
    EXPECT_EQ(resumed->pool().proofs().size(), straight->pool().proofs().size());
    EXPECT_EQ(resumed->counts().ratings, straight->counts().ratings);
  }
}

TEST(pool_search, a_proof_that_passes_every_check_stops_the_problem_mid_round) {
  search_params p = small();
  p.max_rounds = 5;
  auto s = make(p);
  search_step first = s->start();
  // Proof 2 passes (both ratings 1); proofs 0, 1, 3 are still being written.
  search_step v = s->on_result(scores(2)(first.send[2]));
  s->on_result(scores(2)(v.send[0]));
  search_step last = s->on_result(scores(2)(v.send[1]));
  EXPECT_TRUE(s->done());
  EXPECT_EQ(s->status(), problem_status::problem_status_solved);
  EXPECT_EQ(last.withdraw.size(), 3u) << "the other proofs are not waited for";
  EXPECT_EQ(last.pooled, (std::vector<int32_t>{1}));
  EXPECT_TRUE(s->open_tasks().empty());
  EXPECT_TRUE(s->on_result(scores(2)(first.send[0])).send.empty()) << "late results: ignored";
  EXPECT_EQ(s->pool().proofs().size(), 1u);
}

TEST(pool_search, a_round_that_pools_nothing_runs_again_then_the_problem_fails) {
  search_params p = small();
  p.empty_round_retries = 2;
  auto s = make(p);
  answerer cut = [](const task_msg& t) {
    return task_result_msg{.task_id = t.task_id, .status = task_status::task_status_truncated};
  };
  run_result r = run(*s, cut);
  EXPECT_EQ(r.sent.size(), 12u) << "three rounds of 4, each from the problem alone";
  EXPECT_EQ(r.sent.back().task_id, "job/p0/r3/gen/3");
  EXPECT_TRUE(std::get<generate_input>(r.sent.back().input).refinement_context.empty());
  EXPECT_EQ(s->status(), problem_status::problem_status_failed);
  EXPECT_EQ(s->counts().truncated, 12);
  EXPECT_NE(s->status_reason().find("truncated 12"), std::string::npos) << s->status_reason();
}

TEST(pool_search, failed_tasks_retry_then_go_to_the_dead_letters) {
  search_params p = small();
  p.max_attempts = 2;
  p.max_rounds = 1;
  auto s = make(p);
  search_step first = s->start();
  const task_result_msg fail{.task_id = first.send[0].task_id,
                             .status = task_status::task_status_failed,
                             .error = "backend: HTTP 503"};
  search_step again = s->on_result(fail);
  ASSERT_EQ(again.retry.size(), 1u);
  EXPECT_EQ(again.retry[0].attempt, 1u);
  EXPECT_TRUE(again.send.empty());
  s->on_result(fail);
  EXPECT_EQ(s->counts().dead_lettered, 1);
  ASSERT_EQ(s->dead_letters().size(), 1u);
  EXPECT_EQ(s->dead_letters()[0].reason, "backend: HTTP 503");
  EXPECT_FALSE(s->done()) << "the search goes on without it";
}

// Each proof's verification 0 rates it 0, verification 1 rates it 0.5; `meta` judges each
// meta-verification task.
answerer zero_and_half(std::function<float(const task_msg&)> meta) {
  return [meta](const task_msg& t) {
    task_result_msg r{.task_id = t.task_id};
    if (std::holds_alternative<generate_input>(t.input)) {
      r.output = generate_output{"proof " + t.task_id, "eval", 0.5f};
    } else if (std::holds_alternative<verify_input>(t.input)) {
      r.output = verify_output{"rating", t.task_id.back() == '0' ? 0.0f : 0.5f};
    } else {
      r.output = meta_verify_output{"judged", meta(t)};
    }
    return r;
  };
}

TEST(pool_search, meta_verification_that_counts_drops_ratings_judged_invalid) {
  search_params p = small();
  p.max_rounds = 1;
  p.meta_counts = true;
  p.meta_verifications_per_rating = 3;
  // Two of three meta-verifications find the rating of 0 unfair.
  auto s = make(p);
  run(*s, zero_and_half([](const task_msg& t) {
        const bool about_zero =
            t.task_id.find("/0/", t.task_id.find("meta/") + 5) != std::string::npos;
        return about_zero && t.task_id.back() != '2' ? 0.0f : 1.0f;
      }));
  ASSERT_EQ(s->pool().proofs().size(), 4u);
  for (const pool_proof& proof : s->pool().proofs()) {
    EXPECT_EQ(proof.num_ratings(), 1);
    EXPECT_EQ(proof.dropped.size(), 1u);
    EXPECT_DOUBLE_EQ(proof.meanscore, 0.5) << "the dropped 0 does not count";
  }
  EXPECT_EQ(s->counts().ratings_dropped, 4);
  EXPECT_EQ(s->counts().meta_ratings, 24);
  EXPECT_EQ(s->counts().meta_agreed, 16);
}

TEST(pool_search, without_meta_counting_the_same_ratings_all_count) {
  search_params p = small();
  p.max_rounds = 1;
  auto s = make(p);
  run(*s, zero_and_half([](const task_msg&) { return 0.0f; })); // every rating judged unfair
  EXPECT_DOUBLE_EQ(s->pool().proofs()[0].meanscore, 0.25);
  EXPECT_EQ(s->counts().ratings_dropped, 0);
}

} // namespace
} // namespace proofmesh::pipeline

namespace proofmesh::pipeline {
namespace {

// What a ledger holds: results and facts.
using recorded_entry = std::variant<task_result_msg, search_fact>;

// Replays `recorded` in a shuffled order into a fresh search, then resumes it.
std::unique_ptr<proof_search> replayed(search_params p, std::vector<recorded_entry> recorded,
                                       uint32_t seed) {
  std::mt19937 g(seed);
  std::shuffle(recorded.begin(), recorded.end(), g);
  auto s = make(p, true);
  s->start();
  for (const recorded_entry& e : recorded) {
    if (const auto* r = std::get_if<task_result_msg>(&e)) {
      s->on_result(*r);
    } else {
      s->on_fact(std::get<search_fact>(e));
    }
  }
  s->resume();
  return s;
}

TEST(pool_search, a_passing_copy_of_a_text_the_pool_rates_lower_does_not_solve) {
  search_params p = small();
  p.meta_verifications_per_rating = 0;
  p.num_proofs = 2;
  p.max_rounds = 1;
  auto s = make(p);
  search_step first = s->start();
  // Both proofs write the same text; the first copy is rated 0 and 0, the second 1 and 1.
  auto gen = [](const task_msg& t) {
    return task_result_msg{.task_id = t.task_id, .output = generate_output{"same", "e", 0.5f}};
  };
  search_step v0 = s->on_result(gen(first.send[0]));
  search_step v1 = s->on_result(gen(first.send[1]));
  for (const task_msg& t : v0.send) {
    s->on_result({.task_id = t.task_id, .output = verify_output{"gap", 0.0f}});
  }
  for (const task_msg& t : v1.send) {
    s->on_result({.task_id = t.task_id, .output = verify_output{"fine", 1.0f}});
  }
  EXPECT_TRUE(s->done());
  EXPECT_EQ(s->status(), problem_status::problem_status_unsolved) << "one proof, mean 0.5";
  ASSERT_EQ(s->pool().proofs().size(), 1u);
  EXPECT_DOUBLE_EQ(s->pool().proofs()[0].meanscore, 0.5);
}

TEST(pool_search, a_dead_letter_is_a_fact_a_replay_keeps) {
  search_params p = small();
  p.meta_verifications_per_rating = 0;
  p.max_attempts = 1;
  p.max_rounds = 2;
  auto live = make(p);
  std::vector<recorded_entry> recorded;
  std::deque<task_msg> queue;
  auto take = [&](search_step step) {
    for (auto& t : step.send) queue.push_back(t);
    for (auto& f : step.facts) recorded.push_back(f);
  };
  take(live->start());
  while (!queue.empty()) {
    task_msg t = queue.front();
    queue.pop_front();
    if (t.task_id == "job/p0/r1/gen/0") { // its only attempt fails: dead-lettered
      search_step step = live->on_result(
          {.task_id = t.task_id, .status = task_status::task_status_failed, .error = "oom"});
      ASSERT_EQ(step.facts.size(), 1u);
      EXPECT_EQ(step.facts[0], search_fact(dead_letter{.task_id = t.task_id, .reason = "oom"}));
      take(std::move(step));
      continue;
    }
    task_result_msg r = scores()(t);
    recorded.push_back(r);
    take(live->on_result(r));
  }
  ASSERT_TRUE(live->done());
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    auto again = replayed(p, recorded, seed);
    EXPECT_TRUE(again->done());
    EXPECT_TRUE(again->open_tasks().empty()) << "the dead task is not sent again";
    EXPECT_EQ(again->counts().dead_lettered, 1);
    ASSERT_EQ(again->dead_letters().size(), 1u);
    EXPECT_EQ(again->dead_letters()[0].reason, "oom");
    ASSERT_EQ(again->pool().proofs().size(), live->pool().proofs().size());
    for (size_t i = 0; i < live->pool().proofs().size(); ++i) {
      EXPECT_EQ(again->pool().proofs()[i].proof, live->pool().proofs()[i].proof);
    }
  }
}

TEST(pool_search, an_early_stop_is_recorded_and_a_replay_pools_the_same_proofs) {
  search_params p = small();
  p.max_rounds = 3;
  auto live = make(p);
  std::vector<recorded_entry> recorded;
  search_step first = live->start();
  auto apply = [&](const task_result_msg& r) {
    recorded.push_back(r);
    search_step step = live->on_result(r);
    for (auto& f : step.facts) recorded.push_back(f);
    return step;
  };
  // Proof 1 is verified and meta-verified in full; then proof 2 passes and stops the problem.
  search_step v1 = apply(scores(2)(first.send[1]));
  for (const task_msg& t : v1.send) {
    for (const task_msg& m : apply(scores(2)(t)).send) apply(scores(2)(m));
  }
  search_step v2 = apply(scores(2)(first.send[2]));
  apply(scores(2)(v2.send[0]));
  search_step stop = apply(scores(2)(v2.send[1]));
  ASSERT_EQ(live->status(), problem_status::problem_status_solved);
  ASSERT_EQ(stop.facts.size(), 1u);
  EXPECT_EQ(stop.facts[0], search_fact(early_stop{.round = 1, .slots = {1, 2}}));
  EXPECT_EQ(fact_field("job", "p0", stop.facts[0]), "job/p0/r1/stop");
  // Work that was withdrawn still finishes and is recorded (a real ledger records it).
  search_step v0 = apply(scores(2)(first.send[0]));
  recorded.push_back(scores(2)(first.send[3]));
  for (const std::string id : {"job/p0/r1/verify/0/0", "job/p0/r1/verify/0/1"}) {
    task_msg t{.task_id = id, .input = verify_input{"Q", "proof of job/p0/r1/gen/0"}};
    recorded.push_back(scores(2)(t));
  }
  ASSERT_EQ(live->pool().proofs().size(), 2u);
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    auto again = replayed(p, recorded, seed);
    EXPECT_EQ(again->status(), problem_status::problem_status_solved) << seed;
    ASSERT_EQ(again->pool().proofs().size(), 2u) << seed;
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(again->pool().proofs()[i].proof, live->pool().proofs()[i].proof) << seed;
    }
  }
}

TEST(pool_search, problems_draw_their_own_random_numbers_and_each_task_its_own_stream) {
  auto a = proof_search::make({.job_id = "job", .problem_id = "a", .question = "Q",
                               .params = small()});
  auto b = proof_search::make({.job_id = "job", .problem_id = "b", .question = "Q",
                               .params = small()});
  search_step sa = a->start(), sb = b->start();
  EXPECT_NE(sa.send[0].sampling.seed, sb.send[0].sampling.seed);
  EXPECT_NE(sa.send[0].sampling.seed, 0u);
  std::set<uint64_t> streams;
  for (const task_msg& t : sa.send) streams.insert(t.sampling.stream);
  search_step v = a->on_result(scores()(sa.send[0]));
  for (const task_msg& t : v.send) streams.insert(t.sampling.stream);
  EXPECT_EQ(streams.size(), sa.send.size() + v.send.size());
}

} // namespace
} // namespace proofmesh::pipeline

namespace proofmesh::pipeline {
namespace {

TEST(pool_search, a_task_handed_back_unrun_costs_no_attempt_but_is_not_retried_forever) {
  search_params p = small();
  p.max_attempts = 1;
  auto s = make(p);
  search_step first = s->start();
  const task_result_msg back{.task_id = first.send[0].task_id,
                             .status = task_status::task_status_handed_back,
                             .error = "the worker is shutting down"};
  search_step again = s->on_result(back);
  ASSERT_EQ(again.retry.size(), 1u); // with max_attempts 1, a failure would be final
  EXPECT_EQ(again.retry[0].attempt, 0u);
  for (int i = 0; i < 15; ++i) ASSERT_EQ(s->on_result(back).retry.size(), 1u);
  search_step last = s->on_result(back); // the 17th time: dead-lettered, and recorded
  EXPECT_TRUE(last.retry.empty());
  ASSERT_EQ(last.facts.size(), 1u);
  EXPECT_EQ(s->counts().dead_lettered, 1);
  EXPECT_NE(s->dead_letters()[0].reason.find("handed back 16 times"), std::string::npos);
}

} // namespace
} // namespace proofmesh::pipeline
