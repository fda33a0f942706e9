// The paper's sequential self-refinement: each thread refines its own proof from its own
// self-evaluation until it scores itself 1 or runs out of iterations, then its last proof is
// verified; threads never wait for each other, and the best of the pool is Best@N.
#include "actors/pipeline/proof_search.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace proofmesh::pipeline {
namespace {

using namespace transport;

search_params threads(int n, int iterations) {
  search_params p = strategy_preset("self-refine");
  p.num_proofs = n;
  p.max_rounds = iterations;
  p.verifications_per_proof = 2;
  return p;
}

// Thread t scores itself 1 at iteration t + 1; a verifier rates proof text of thread t as t/4.
task_result_msg answer(const task_msg& t) {
  task_result_msg r{.task_id = t.task_id};
  if (std::holds_alternative<generate_input>(t.input)) {
    const int thread = t.task_id.back() - '0';
    const int round = t.task_id[t.task_id.find("/r") + 2] - '0';
    r.output = generate_output{"proof " + std::to_string(thread) + " v" + std::to_string(round),
                               "my own check", round == thread + 1 ? 1.0f : 0.0f};
  } else {
    const auto& v = std::get<verify_input>(t.input);
    r.output = verify_output{"rating", static_cast<float>(v.solution[6] - '0') / 4.0f};
  }
  return r;
}

TEST(self_refine_search, threads_refine_from_their_own_self_evaluation) {
  auto s = proof_search::make({.job_id = "j", .problem_id = "p", .question = "Q",
                               .params = threads(3, 4)});
  std::deque<task_msg> queue;
  std::vector<task_msg> sent;
  auto take = [&](search_step step) {
    for (auto& t : step.send) queue.push_back(t), sent.push_back(t);
  };
  take(s->start());
  ASSERT_EQ(queue.size(), 3u);
  // Thread 0 scores itself 1 at once: its proof goes to verification, the others refine.
  task_msg t0 = queue.front();
  queue.pop_front();
  search_step after = s->on_result(answer(t0));
  ASSERT_EQ(after.send.size(), 2u);
  EXPECT_EQ(after.send[0].task_id, "j/p/r1/verify/0/0");
  take(std::move(after));
  task_msg t1 = queue.front();
  queue.pop_front();
  search_step refine = s->on_result(answer(t1));
  ASSERT_EQ(refine.send.size(), 1u);
  EXPECT_EQ(refine.send[0].task_id, "j/p/r2/gen/1");
  EXPECT_EQ(std::get<generate_input>(refine.send[0].input).refinement_context,
            "--- Solution 0 ---\nproof 1 v1\n\n=== Evaluation 0 of Solution 0 ===\nmy own check");
  take(std::move(refine));
  while (!queue.empty()) {
    task_msg t = queue.front();
    queue.pop_front();
    take(s->on_result(answer(t)));
  }
  EXPECT_TRUE(s->done());
  // Threads end at iterations 1, 2, 3: 1 + 2 + 3 generations, 3 × 2 verifications.
  EXPECT_EQ(s->counts().proofs, 6);
  EXPECT_EQ(s->counts().ratings, 6);
  ASSERT_EQ(s->pool().proofs().size(), 3u);
  EXPECT_EQ(s->pool().proofs()[2].proof, "proof 2 v3");
  EXPECT_EQ(s->pool().proofs()[2].round_idx, 3);
  EXPECT_EQ(s->pool().best()->proof, "proof 2 v3"); // rated 2/4, the highest
  EXPECT_EQ(s->status(), problem_status::problem_status_unsolved);
}

TEST(self_refine_search, a_thread_stops_at_its_last_iteration_with_its_last_good_proof) {
  auto s = proof_search::make({.job_id = "j", .problem_id = "p", .question = "Q",
                               .params = threads(1, 2)});
  search_step first = s->start();
  search_step second = s->on_result({.task_id = "j/p/r1/gen/0",
                                     .output = generate_output{"proof 0 v1", "hmm", 0.5f}});
  ASSERT_EQ(second.send.size(), 1u);
  // Its second iteration is cut off by the length limit: the first proof is the thread's.
  search_step verify = s->on_result(
      {.task_id = "j/p/r2/gen/0", .status = task_status::task_status_truncated});
  ASSERT_EQ(verify.send.size(), 2u);
  EXPECT_EQ(std::get<verify_input>(verify.send[0].input).solution, "proof 0 v1");
  EXPECT_EQ(verify.send[0].task_id, "j/p/r1/verify/0/0");
  s->on_result(answer(verify.send[0]));
  s->on_result(answer(verify.send[1]));
  EXPECT_TRUE(s->done());
  EXPECT_EQ(s->counts().truncated, 1);
  EXPECT_EQ(s->pool().proofs().size(), 1u);
}

} // namespace
} // namespace proofmesh::pipeline
