// The paper's sequential self-refinement (section 3.3.2) for one problem: num_proofs threads,
// each generating a proof, reading its own self-evaluation, and refining until its self-score
// is 1 or max_rounds iterations have run; then each thread's last proof is verified
// verifications_per_proof times, and the pool's best is Best@N. Rules of the road:
// - A thread's refinement prompt is proof_refinement over its own last proof, with its
//   self-evaluation in the place of a verifier's analysis.
// - Threads never wait for each other: a thread's last proof is verified the moment it ends.
// - A lost iteration (truncated, unparseable, dead-lettered) is followed by the next one, from
//   the thread's last good proof or, if it has none, from the problem alone. A thread with no
//   proof at its last iteration ends empty.
// - When every thread has ended, their proofs are pooled in thread order. An empty pool runs
//   every thread again, up to empty_round_retries times.
#pragma once

#include "actors/pipeline/proof_search.hpp"

#include <optional>

namespace proofmesh::pipeline {

class self_refine_search final : public proof_search {
public:
  explicit self_refine_search(search_setup setup) : proof_search(std::move(setup)) {}

private:
  struct thread_state {
    std::optional<transport::generate_output> last; // the last proof that parsed
    int32_t last_round = 0;
    bool ended = false;
  };

  search_step begin() override;
  search_step on_proof(int32_t round, int32_t slot, const transport::generate_output& g) override;
  search_step on_lost_proof(int32_t round, int32_t slot) override;
  search_step on_verified(const candidate_key& key) override;
  search_step on_stop_mark(int32_t, std::set<int32_t>) override { return {}; } // never stops early

  search_step launch();
  /// The thread's iteration `round` is over: refine again, or end it.
  search_step next(int32_t round, int32_t slot);
  search_step end_thread(int32_t slot);
  search_step maybe_close();

  std::vector<thread_state> threads_;
  int32_t base_ = 0; // rounds of earlier, empty attempts
  int32_t empty_retries_ = 0;
};

} // namespace proofmesh::pipeline
