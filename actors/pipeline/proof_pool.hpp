// One problem's pool of rated proofs, with the reference's semantics (inference/main.py, as
// ../shared/dsm2/PIPELINE.md restates them), and the refinement prompts built from it. Rules of
// the road:
// - add_round() takes a round's proofs in a fixed order (generation index). A proof whose text
//   is already pooled is skipped, its new ratings with it; the same text twice in one round is
//   one proof with the ratings of both, the self-evaluation and dep_proof_ids of the first copy
//   that has a rating; a
//   proof without ratings is not pooled (unless the search asks no verifications at all).
//   proof_id counts from 1 per problem, in the order proofs are pooled.
// - meanscore is the mean of the kept ratings' scores; score2ratings groups them by score.
// - ranked(): shuffled, then stably sorted by (meanscore, self_eval_score), highest first: ties
//   fall at random, as in the reference. The randomness is a seeded generator of our own, so a
//   resumed search draws the same prompts as the run it replaces.
// - refinement_sets(): the top k, then every k-combination of the ranked proofs in
//   lexicographic order, each shuffled, without repeats (as sets), up to the limit.
// - refinement_summary(): per proof `--- Solution {j} ---\n{proof}\n\n{ratings}`, its ratings by
//   ascending score, shuffled within a score, at most ratings_per_score of each (ratings_per_proof
//   when the proof has one distinct score), numbered `=== Evaluation {e} of Solution {j} ===`;
//   ratings joined by "\n\n", proofs by "\n\n\n". The cap of ratings_per_proof per proof holds
//   across scores (the reference's cap leaks past 8 when three scores each give 4).
// - best(): the final selection, by (meanscore, self_eval_score, number of ratings), the lowest
//   proof_id on a full tie.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace proofmesh::pipeline {

/// The search's random draws: splitmix64, seeded per job, problem and round; the same on every
/// platform (std::shuffle's algorithm is the library's choice, ours is not).
class search_random {
public:
  explicit search_random(uint64_t seed) : state_(seed) {}
  static search_random for_round(const std::string& job, const std::string& problem,
                                 int32_t round);
  uint64_t next();
  /// Fisher-Yates, drawing as numpy's shuffle does: from the back.
  template <typename T> void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }

private:
  uint64_t state_;
};

struct meta_judgement {
  std::string quality; // the meta-verifier's analysis
  double score = 0;
};

struct pool_rating {
  std::string rating;                 // the verifier's analysis (after </think>)
  double score = 0;
  std::vector<meta_judgement> quality; // meta-verifications of this rating
};

struct pool_proof {
  int32_t proof_id = 0;
  std::string proof;
  double meanscore = 0;
  std::map<double, std::vector<pool_rating>> score2ratings; // ascending score
  std::string self_eval;
  double self_eval_score = 0;
  std::vector<int32_t> dep_proof_ids;
  int32_t round_idx = 0;
  std::vector<pool_rating> dropped; // judged invalid by the meta-verifiers (meta_counts)
  int32_t num_ratings() const;
};

/// A parsed proof of a round, with the ratings that count.
struct round_proof {
  std::string proof;
  std::string self_eval;
  double self_eval_score = 0;
  std::vector<int32_t> dep_proof_ids;
  int32_t round_idx = 0;
  std::vector<pool_rating> ratings;
  std::vector<pool_rating> dropped;
};

struct summary_params {
  int32_t ratings_per_score = 4; // at most this many of one score
  int32_t ratings_per_proof = 8; // at most this many in all, and of one score if only one
};

class proof_pool {
public:
  /// Pools a round's proofs (rules above); returns the ids it gave, in order.
  std::vector<int32_t> add_round(const std::vector<round_proof>& proofs, bool need_ratings = true);

  bool solved(double above) const;
  /// The top `top` proofs, ranked (rules above).
  std::vector<const pool_proof*> ranked(search_random& rng, size_t top) const;
  const pool_proof* best() const;
  const pool_proof* find(int32_t proof_id) const;
  const std::vector<pool_proof>& proofs() const { return proofs_; }
  bool empty() const { return proofs_.empty(); }

private:
  std::vector<pool_proof> proofs_;
};

/// Index sets into a ranked list of `ranked` proofs, k at a time, at most `limit` of them.
std::vector<std::vector<size_t>> refinement_sets(size_t ranked, size_t k, size_t limit,
                                                 search_random& rng);

/// The `proofs_to_refine` text for these proofs, in this order (not yet stripped).
std::string refinement_summary(const std::vector<const pool_proof*>& proofs,
                               const summary_params& params, search_random& rng);

} // namespace proofmesh::pipeline
