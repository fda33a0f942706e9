// The mesh's first strategy for one problem (issue #4; the paper's full searches come later):
// n proofs; m verifications of each parsed proof; meta-verification of every rating scoring at
// most the threshold; the best proof by mean score. Rules of the road:
// - No barriers: a proof's verifications are issued the moment its generation result arrives,
//   and a rating's meta-verifications the moment the rating does.
// - Task ids are deterministic (job/problem/round/kind/indices), so a task re-sent after a crash
//   or a dead worker has the same id, and on_result() records each task's result once: a
//   duplicate is ignored.
// - A task whose worker failed (status failed) is issued again, attempt + 1, up to max_attempts;
//   then it is given up like an unparseable output.
// - The state is a pure function of the results recorded, in any order they arrive: the
//   coordinator can rebuild it from its ledger (replay, in hash order) and resume. A result for
//   a task not issued yet (a rating replayed before its proof) waits until the task is issued,
//   and is applied then instead of the task being sent.
// - best(): highest mean score, then highest self-evaluation score, then lowest proof index
//   (deterministic; the reference breaks such ties at random).
#pragma once

#include "actors/transport/wire_messages.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace proofmesh::pipeline {

struct search_params {
  int32_t num_proofs = 4;                 // n
  int32_t verifications_per_proof = 4;    // m
  int32_t meta_verifications_per_rating = 1;
  float meta_threshold = 0.75f;           // ratings scoring at most this are meta-verified
  int32_t max_attempts = 3;               // per task, counting the first
  transport::sampling_spec sampling = {.temperature = 1.0f, .top_p = 0.95f, .max_tokens = 4096};
};

struct rating_record {
  std::string text;
  float score = 0;
  std::vector<transport::meta_verify_output> meta; // the meta-verifier's judgements
};

struct proof_record {
  int32_t index = 0;
  std::string solution;
  std::string self_eval;
  float self_eval_score = 0;
  std::map<int32_t, rating_record> ratings; // by verification index
  double mean_score() const;
};

struct search_counts {
  int64_t proofs = 0;        // parsed proofs
  int64_t ratings = 0;       // parsed ratings
  int64_t meta_ratings = 0;  // parsed meta-verifications
  int64_t given_up = 0;      // tasks unparseable, or failed max_attempts times
};

class simple_search {
public:
  simple_search(std::string job_id, std::string problem_id, std::string question,
                search_params params);

  /// The first tasks: n generations.
  std::vector<transport::task_msg> start();
  /// Records a result; returns the tasks it unlocks (or the retry of a failed one). A result
  /// for an unknown or already recorded task changes nothing and returns nothing.
  std::vector<transport::task_msg> on_result(const transport::task_result_msg& result);

  bool done() const { return open_.empty(); }
  std::optional<proof_record> best() const;
  const std::map<int32_t, proof_record>& proofs() const { return proofs_; }
  search_counts counts() const { return counts_; }
  /// Tasks issued and not yet resolved, by id.
  const std::map<std::string, transport::task_msg>& open_tasks() const { return open_; }

private:
  transport::task_msg make(std::string id, transport::task_input input, uint64_t stream) const;
  /// Opens tasks; returns those to send (a task whose result came early is resolved instead).
  std::vector<transport::task_msg> issue(std::vector<transport::task_msg> tasks);
  size_t max_tasks() const;
  std::vector<transport::task_msg> on_output(const transport::task_msg& task,
                                             const transport::task_result_msg& result);

  std::string job_id_;
  std::string problem_id_;
  std::string question_;
  search_params params_;
  std::map<std::string, transport::task_msg> open_; // issued, unresolved
  std::set<std::string> resolved_;
  std::map<std::string, transport::task_result_msg> early_; // results before their tasks
  std::map<int32_t, proof_record> proofs_;
  search_counts counts_;
};

} // namespace proofmesh::pipeline
