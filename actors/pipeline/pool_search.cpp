#include "actors/pipeline/pool_search.hpp"

#include "actors/roles/python_text.hpp"

namespace proofmesh::pipeline {

namespace pt = proofmesh::transport;

search_step pool_search::begin() {
  return open_round({{"", {}}}, setup_.params.num_proofs);
}

search_step pool_search::open_round(
    std::vector<std::pair<std::string, std::vector<int32_t>>> prompts, int32_t samples) {
  deps_.clear();
  std::vector<pt::task_msg> tasks;
  int32_t slot = 0;
  for (auto& [context, deps] : prompts) {
    for (int32_t s = 0; s < samples; ++s, ++slot) {
      deps_[slot] = deps;
      tasks.push_back(generation(round_, slot, context));
    }
  }
  gens_open_ = slot;
  verifying_ = 0;
  return issue(std::move(tasks));
}

search_step pool_search::on_proof(int32_t round, int32_t slot, const pt::generate_output& g) {
  if (round != round_ || !deps_.contains(slot)) return {};
  --gens_open_;
  ++verifying_;
  return verify(round, slot, g, deps_[slot]);
}

search_step pool_search::on_lost_proof(int32_t round, int32_t slot) {
  if (round != round_ || !deps_.contains(slot)) return {};
  --gens_open_;
  return maybe_close();
}

bool pool_search::passed(const candidate& c) const {
  // As the pool will see it: a text already pooled keeps its old ratings (the new ones are
  // dropped), and copies of the text in this round count together, all of them verified.
  for (const pool_proof& p : pool_.proofs()) {
    if (p.proof == c.proof.solution) return false;
  }
  double sum = 0;
  size_t n = 0;
  for (auto it = candidates_.lower_bound({round_, 0});
       it != candidates_.end() && it->first.first == round_; ++it) {
    if (it->second.proof.solution != c.proof.solution) continue;
    if (it->second.unresolved > 0) return false;
    for (const auto& [j, rating] : it->second.ratings) { // scores only: no texts copied
      if (rating_counts(it->second, j)) sum += rating.score, ++n;
    }
  }
  return n > 0 && sum / static_cast<double>(n) > setup_.params.solved_above;
}

search_step pool_search::on_verified(const candidate_key& key) {
  if (key.first != round_) return {};
  --verifying_;
  if (stop_marks_.contains(round_)) return maybe_close_on_mark();
  if (passed(candidates_.at(key))) {
    if (!replaying_) return close_round(true);
    stop_pending_ = true; // its stop mark may still come in the replay: decide at resume()
  }
  return maybe_close();
}

search_step pool_search::on_stop_mark(int32_t round, std::set<int32_t> slots) {
  if (round < round_) return {}; // that round closed already (in full)
  stop_marks_[round] = std::move(slots);
  return round == round_ ? maybe_close_on_mark() : search_step{};
}

search_step pool_search::maybe_close_on_mark() {
  const std::set<int32_t>& slots = stop_marks_.at(round_);
  for (int32_t slot : slots) {
    auto it = candidates_.find({round_, slot});
    if (it == candidates_.end() || it->second.unresolved > 0) return {};
  }
  return close_round(false, &slots);
}

search_step pool_search::on_resume() {
  // A pass seen in the replay, but no stop mark (the crash came between the two): stop now on
  // what is verified, and record that.
  if (stop_pending_ && !stop_marks_.contains(round_)) return close_round(true);
  return {};
}

search_step pool_search::maybe_close() {
  if (gens_open_ > 0 || verifying_ > 0) return {};
  return close_round(false);
}

search_step pool_search::close_round(bool early, const std::set<int32_t>* slots) {
  const search_params& p = setup_.params;
  search_step step;
  // The round's verified proofs, in slot order; unfinished ones (an early stop) are left out.
  std::vector<round_proof> proofs;
  std::set<int32_t> pooled_slots;
  for (auto it = candidates_.lower_bound({round_, 0});
       it != candidates_.end() && it->first.first == round_; ++it) {
    if (it->second.unresolved > 0) continue;
    if (slots != nullptr && !slots->contains(it->first.second)) continue;
    pooled_slots.insert(it->first.second);
    proofs.push_back(pooled_form(it->second));
    counts_.ratings_dropped += static_cast<int64_t>(proofs.back().dropped.size());
  }
  if (early) step.facts.emplace_back(std::in_place_type<early_stop>, round_, pooled_slots);
  if (early || slots != nullptr) step.append(withdraw_round(round_)); // cut short: the rest goes
  step.pooled = pool_.add_round(proofs, p.verifications_per_proof > 0);
  ++counts_.rounds;
  stop_pending_ = false;
  if (pool_.solved(p.solved_above)) {
    step.append(finish(problem_status::problem_status_solved,
                       "a proof passed every verification in round " + std::to_string(round_)));
    return step;
  }
  if (pool_.empty()) {
    if (empty_retries_ >= p.empty_round_retries) {
      step.append(finish(problem_status::problem_status_failed,
                         "no proof parsed and verified in " + std::to_string(counts_.rounds) +
                             " rounds (truncated " + std::to_string(counts_.truncated) +
                             ", unparseable " + std::to_string(counts_.unparseable) +
                             ", dead-lettered " + std::to_string(counts_.dead_lettered) + ")"));
      return step;
    }
    ++empty_retries_;
    ++round_;
    step.append(open_round({{"", {}}}, p.num_proofs)); // again from the problem alone
    return step;
  }
  if (++counted_rounds_ >= p.max_rounds) {
    step.append(finish(problem_status::problem_status_unsolved,
                       std::to_string(p.max_rounds) + " rounds run"));
    return step;
  }
  // The next round's prompts, from the whole pool.
  ++round_;
  search_random rng = search_random::for_round(setup_.job_id, setup_.problem_id, round_);
  std::vector<const pool_proof*> ranked = pool_.ranked(rng, static_cast<size_t>(p.best_proofs));
  std::vector<std::pair<std::string, std::vector<int32_t>>> prompts;
  for (const std::vector<size_t>& set :
       refinement_sets(ranked.size(), static_cast<size_t>(p.proofs_per_refinement),
                       static_cast<size_t>(p.refinements), rng)) {
    std::vector<const pool_proof*> chosen;
    std::vector<int32_t> deps;
    for (size_t i : set) {
      chosen.push_back(ranked[i]);
      deps.push_back(ranked[i]->proof_id);
    }
    const std::string summary = refinement_summary(
        chosen, {.ratings_per_score = p.ratings_per_score, .ratings_per_proof = p.ratings_per_proof},
        rng);
    prompts.emplace_back(std::string(roles::python_strip(summary)), std::move(deps));
  }
  step.append(open_round(std::move(prompts), p.samples_per_refinement()));
  return step;
}

} // namespace proofmesh::pipeline
