// The reference's search (main.py) without its barriers, for one problem. Each round: its
// proofs (round 1: num_proofs from the problem alone; later: samples_per_refinement for each
// refinement prompt built from the pool), each verified as soon as it lands. A round closes
// when its own work is done: its proofs join the pool (proof_pool's rules), then the problem
// stops (a proof passed, or the rounds are used up) or builds the next round's prompts.
// Better than the reference:
// - early stop mid-round: a proof whose every rating is in and whose mean passes solved_above
//   (with the ratings of every copy of its text in the round, and not a text pooled before,
//   whose new ratings the reference would drop) ends the problem at once; its unfinished work is
//   withdrawn, not waited for. The slots it pooled are recorded (a stop mark), so a resumed
//   search pools exactly those, whatever else was recorded after the stop;
// - a round that pools nothing while the pool is empty (every proof truncated, say) is run
//   again, up to empty_round_retries times, instead of the problem silently dropping out;
// - refinement always draws on the whole pool, also when the last round added nothing.
#pragma once

#include "actors/pipeline/proof_search.hpp"

namespace proofmesh::pipeline {

class pool_search final : public proof_search {
public:
  explicit pool_search(search_setup setup) : proof_search(std::move(setup)) {}

private:
  search_step begin() override;
  search_step on_proof(int32_t round, int32_t slot, const transport::generate_output& g) override;
  search_step on_lost_proof(int32_t round, int32_t slot) override;
  search_step on_verified(const candidate_key& key) override;
  search_step on_resume() override;
  search_step on_stop_mark(int32_t round, std::set<int32_t> slots) override;

  /// Opens `round` with these prompts (context, dep_proof_ids), samples each.
  search_step open_round(std::vector<std::pair<std::string, std::vector<int32_t>>> prompts,
                         int32_t samples);
  /// A proof of this round that passed every check, if one did.
  bool passed(const candidate& c) const;
  search_step maybe_close();
  /// A recorded stop of this round whose slots are all verified: close on them.
  search_step maybe_close_on_mark();
  /// Pools the round's verified proofs (only `slots` when given), then stops or opens the next
  /// round. `early` records the stop (the slots pooled) as a fact.
  search_step close_round(bool early, const std::set<int32_t>* slots = nullptr);

  int32_t gens_open_ = 0;       // this round's generations not yet resolved
  int32_t verifying_ = 0;       // this round's proofs with verifications outstanding
  int32_t counted_rounds_ = 0;  // rounds that count toward max_rounds
  int32_t empty_retries_ = 0;
  std::map<int32_t, std::vector<int32_t>> deps_; // this round's slot -> dep_proof_ids
  bool stop_pending_ = false;   // a pass seen while replaying
  std::map<int32_t, std::set<int32_t>> stop_marks_; // recorded early stops: round -> slots
};

} // namespace proofmesh::pipeline
