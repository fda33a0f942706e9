#include "actors/pipeline/self_refine_search.hpp"

#include "actors/roles/python_text.hpp"

namespace proofmesh::pipeline {

namespace pt = proofmesh::transport;

search_step self_refine_search::begin() { return launch(); }

search_step self_refine_search::launch() {
  threads_.assign(static_cast<size_t>(setup_.params.num_proofs), {});
  round_ = base_ + 1;
  std::vector<pt::task_msg> tasks;
  for (int32_t t = 0; t < setup_.params.num_proofs; ++t) tasks.push_back(generation(round_, t, ""));
  return issue(std::move(tasks));
}

search_step self_refine_search::on_proof(int32_t round, int32_t slot,
                                         const pt::generate_output& g) {
  if (slot < 0 || static_cast<size_t>(slot) >= threads_.size() || round <= base_) return {};
  thread_state& t = threads_[static_cast<size_t>(slot)];
  t.last = g;
  t.last_round = round;
  if (g.self_eval_score >= 1.0f) return end_thread(slot);
  return next(round, slot);
}

search_step self_refine_search::on_lost_proof(int32_t round, int32_t slot) {
  if (slot < 0 || static_cast<size_t>(slot) >= threads_.size() || round <= base_) return {};
  return next(round, slot);
}

search_step self_refine_search::next(int32_t round, int32_t slot) {
  if (round - base_ >= setup_.params.max_rounds) return end_thread(slot);
  const thread_state& t = threads_[static_cast<size_t>(slot)];
  round_ = std::max(round_, round + 1);
  std::string context;
  if (t.last) {
    context = "--- Solution 0 ---\n" + t.last->solution +
              "\n\n=== Evaluation 0 of Solution 0 ===\n" + t.last->self_eval;
    context = std::string(roles::python_strip(context));
  }
  return issue({generation(round + 1, slot, std::move(context))});
}

search_step self_refine_search::end_thread(int32_t slot) {
  thread_state& t = threads_[static_cast<size_t>(slot)];
  if (!t.last) {
    t.ended = true;
    return maybe_close();
  }
  return verify(t.last_round, slot, *t.last, {});
}

search_step self_refine_search::on_verified(const candidate_key& key) {
  threads_[static_cast<size_t>(key.second)].ended = true;
  return maybe_close();
}

search_step self_refine_search::maybe_close() {
  for (const thread_state& t : threads_) {
    if (!t.ended) return {};
  }
  const search_params& p = setup_.params;
  search_step step;
  std::vector<round_proof> proofs;
  for (size_t i = 0; i < threads_.size(); ++i) {
    auto it = candidates_.find({threads_[i].last_round, static_cast<int32_t>(i)});
    if (!threads_[i].last || it == candidates_.end()) continue;
    proofs.push_back(pooled_form(it->second));
    counts_.ratings_dropped += static_cast<int64_t>(proofs.back().dropped.size());
  }
  step.pooled = pool_.add_round(proofs, p.verifications_per_proof > 0);
  ++counts_.rounds;
  if (pool_.empty()) {
    if (empty_retries_ >= p.empty_round_retries) {
      step.append(finish(problem_status::problem_status_failed,
                         "no thread ended with a verified proof (truncated " +
                             std::to_string(counts_.truncated) + ", unparseable " +
                             std::to_string(counts_.unparseable) + ", dead-lettered " +
                             std::to_string(counts_.dead_lettered) + ")"));
      return step;
    }
    ++empty_retries_;
    base_ = round_;
    step.append(launch());
    return step;
  }
  step.append(finish(pool_.solved(p.solved_above) ? problem_status::problem_status_solved
                                                  : problem_status::problem_status_unsolved,
                     "Best@" + std::to_string(p.num_proofs) + " of self-refinement threads"));
  return step;
}

} // namespace proofmesh::pipeline
