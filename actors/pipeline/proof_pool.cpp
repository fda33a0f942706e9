#include "actors/pipeline/proof_pool.hpp"

#include "actors/common/fnv1a.hpp"
#include "actors/common/splitmix64.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

namespace proofmesh::pipeline {

search_random search_random::for_round(const std::string& job, const std::string& problem,
                                       int32_t round) {
  std::string key = job;
  key += '/';
  key += problem;
  key += '/';
  key += std::to_string(round);
  return search_random(fnv1a(key));
}

uint64_t search_random::next() {
  const uint64_t v = splitmix64(state_);
  state_ += 0x9e3779b97f4a7c15ull; // the next counter value
  return v;
}

int32_t pool_proof::num_ratings() const {
  size_t n = 0;
  for (const auto& [score, list] : score2ratings) n += list.size();
  return static_cast<int32_t>(n);
}

std::vector<int32_t> proof_pool::add_round(const std::vector<round_proof>& proofs,
                                           bool need_ratings) {
  std::set<std::string> pooled;
  for (const pool_proof& p : proofs_) pooled.insert(p.proof);
  // This round's proofs by text, in first-seen order, ratings merged.
  std::vector<round_proof> merged;
  std::unordered_map<std::string, size_t> at;
  for (const round_proof& r : proofs) {
    if (pooled.contains(r.proof)) continue;
    auto [it, fresh] = at.emplace(r.proof, merged.size());
    if (fresh) {
      merged.push_back(r);
      continue;
    }
    round_proof& first = merged[it->second];
    if (first.ratings.empty() && !r.ratings.empty()) { // main.py: the first copy with a rating
      first.self_eval = r.self_eval;
      first.self_eval_score = r.self_eval_score;
      first.dep_proof_ids = r.dep_proof_ids;
      first.round_idx = r.round_idx;
    }
    first.ratings.insert(first.ratings.end(), r.ratings.begin(), r.ratings.end());
    first.dropped.insert(first.dropped.end(), r.dropped.begin(), r.dropped.end());
  }
  int32_t next_id = 1;
  for (const pool_proof& p : proofs_) next_id = std::max(next_id, p.proof_id + 1);
  std::vector<int32_t> ids;
  for (round_proof& r : merged) {
    if (need_ratings && r.ratings.empty()) continue;
    pool_proof p{.proof_id = next_id++,
                 .proof = std::move(r.proof),
                 .self_eval = std::move(r.self_eval),
                 .self_eval_score = r.self_eval_score,
                 .dep_proof_ids = std::move(r.dep_proof_ids),
                 .round_idx = r.round_idx,
                 .dropped = std::move(r.dropped)};
    double sum = 0;
    for (pool_rating& rating : r.ratings) {
      sum += rating.score;
      p.score2ratings[rating.score].push_back(std::move(rating));
    }
    p.meanscore = r.ratings.empty() ? 0 : sum / static_cast<double>(r.ratings.size());
    ids.push_back(p.proof_id);
    proofs_.push_back(std::move(p));
  }
  return ids;
}

bool proof_pool::solved(double above) const {
  return std::any_of(proofs_.begin(), proofs_.end(), [&](const pool_proof& p) {
    return p.num_ratings() > 0 && p.meanscore > above;
  });
}

std::vector<const pool_proof*> proof_pool::ranked(search_random& rng, size_t top) const {
  std::vector<const pool_proof*> out;
  for (const pool_proof& p : proofs_) out.push_back(&p);
  rng.shuffle(out);
  std::stable_sort(out.begin(), out.end(), [](const pool_proof* a, const pool_proof* b) {
    if (a->meanscore != b->meanscore) return a->meanscore > b->meanscore;
    return a->self_eval_score > b->self_eval_score;
  });
  if (out.size() > top) out.resize(top);
  return out;
}

const pool_proof* proof_pool::best() const {
  const pool_proof* best = nullptr;
  for (const pool_proof& p : proofs_) {
    if (best == nullptr ||
        std::tuple(p.meanscore, p.self_eval_score, p.num_ratings()) >
            std::tuple(best->meanscore, best->self_eval_score, best->num_ratings())) {
      best = &p;
    }
  }
  return best;
}

const pool_proof* proof_pool::find(int32_t proof_id) const {
  for (const pool_proof& p : proofs_) {
    if (p.proof_id == proof_id) return &p;
  }
  return nullptr;
}

std::vector<std::vector<size_t>> refinement_sets(size_t ranked, size_t k, size_t limit,
                                                 search_random& rng) {
  std::vector<std::vector<size_t>> out;
  if (ranked == 0 || limit == 0) return out;
  k = std::min(k, ranked);
  std::set<std::vector<size_t>> seen;
  auto offer = [&](std::vector<size_t> set, bool shuffle) {
    if (shuffle) rng.shuffle(set);
    std::vector<size_t> key = set;
    std::sort(key.begin(), key.end());
    if (seen.insert(key).second) out.push_back(std::move(set));
  };
  std::vector<size_t> combo(k);
  for (size_t i = 0; i < k; ++i) combo[i] = i;
  offer(combo, false); // the top k, as ranked
  // Then every k-combination in lexicographic order, as itertools.combinations yields them.
  while (out.size() < limit) {
    offer(combo, true);
    if (out.size() >= limit) break;
    size_t i = k;
    while (i > 0 && combo[i - 1] == ranked - k + (i - 1)) --i;
    if (i == 0) break;
    ++combo[i - 1];
    for (size_t j = i; j < k; ++j) combo[j] = combo[j - 1] + 1;
  }
  return out;
}

std::string refinement_summary(const std::vector<const pool_proof*>& proofs,
                               const summary_params& params, search_random& rng) {
  std::string summary;
  for (size_t j = 0; j < proofs.size(); ++j) {
    const pool_proof& p = *proofs[j];
    const size_t per_score = static_cast<size_t>(
        p.score2ratings.size() == 1 ? params.ratings_per_proof : params.ratings_per_score);
    const size_t cap = static_cast<size_t>(params.ratings_per_proof);
    std::string ratings;
    size_t count = 0;
    for (const auto& [score, list] : p.score2ratings) { // ascending
      std::vector<const pool_rating*> shuffled;
      for (const pool_rating& r : list) shuffled.push_back(&r);
      rng.shuffle(shuffled);
      for (size_t i = 0; i < shuffled.size() && i < per_score && count < cap; ++i, ++count) {
        if (count > 0) ratings += "\n\n";
        ratings += "=== Evaluation ";
        ratings += std::to_string(count);
        ratings += " of Solution ";
        ratings += std::to_string(j);
        ratings += " ===\n";
        ratings += shuffled[i]->rating;
      }
    }
    if (j > 0) summary += "\n\n\n";
    summary += "--- Solution ";
    summary += std::to_string(j);
    summary += " ---\n";
    summary += p.proof;
    summary += "\n\n";
    summary += ratings;
  }
  return summary;
}

} // namespace proofmesh::pipeline
