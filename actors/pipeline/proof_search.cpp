#include "actors/pipeline/proof_search.hpp"

#include "actors/pipeline/pool_search.hpp"
#include "actors/pipeline/self_refine_search.hpp"
#include "actors/roles/python_text.hpp"


namespace proofmesh::pipeline {

namespace pt = proofmesh::transport;

namespace {

template <typename T> void move_into(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

} // namespace

const char* problem_status_name(problem_status s) {
  switch (s) {
    case problem_status::problem_status_running: return "running";
    case problem_status::problem_status_solved: return "solved";
    case problem_status::problem_status_unsolved: return "unsolved";
    case problem_status::problem_status_failed: return "failed";
  }
  return "unknown";
}

void search_step::append(search_step other) {
  move_into(send, other.send);
  move_into(retry, other.retry);
  move_into(withdraw, other.withdraw);
  move_into(pooled, other.pooled);
  move_into(facts, other.facts);
}

std::unique_ptr<proof_search> proof_search::make(search_setup setup) {
  if (setup.params.mode == search_mode::search_mode_self_refine) {
    return std::make_unique<self_refine_search>(std::move(setup));
  }
  return std::make_unique<pool_search>(std::move(setup));
}

proof_search::proof_search(search_setup setup) : setup_(std::move(setup)) {
  setup_.question = std::string(roles::python_strip(setup_.question));
  replaying_ = setup_.replaying;
  seed_ = search_random::for_round(setup_.job_id, setup_.problem_id, 0).next() | 1;
}

std::optional<task_key> proof_search::key_of(const std::string& task_id) const {
  std::optional<task_key> k = task_key::parse(task_id);
  if (!k || k->job != setup_.job_id || k->problem != setup_.problem_id) return std::nullopt;
  return k;
}

search_step proof_search::start() { return begin(); }

search_step proof_search::resume() {
  if (!replaying_) return {};
  replaying_ = false;
  return done() ? search_step{} : on_resume();
}

std::string proof_search::task_id(int32_t round, task_kind kind, int32_t slot, int32_t rating,
                                  int32_t judgement) const {
  return task_key{.job = setup_.job_id, .problem = setup_.problem_id, .round = round,
                  .kind = kind, .slot = slot, .rating = rating, .judgement = judgement}
      .to_string();
}

// The sampling of a task: the job's, seeded per job and problem (two jobs, or two problems,
// never draw the same numbers), on a stream of its own per kind and indices.
pt::sampling_spec proof_search::sampling(task_kind kind, int32_t round, int32_t slot, int32_t j,
                                         int32_t q) const {
  pt::sampling_spec s = setup_.params.sampling;
  s.seed = seed_;
  s.stream = (static_cast<uint64_t>(kind) << 62) | (static_cast<uint64_t>(round & 0x3ff) << 52) |
             (static_cast<uint64_t>(slot & 0xfffff) << 32) |
             (static_cast<uint64_t>(j & 0xffff) << 16) | static_cast<uint64_t>(q & 0xffff);
  if (kind != task_kind::task_kind_generate) s.max_tokens = setup_.params.verify_max_tokens;
  return s;
}

pt::task_msg proof_search::generation(int32_t round, int32_t slot, std::string context) const {
  const pt::sampling_spec s = sampling(task_kind::task_kind_generate, round, slot, 0, 0);
  return {.task_id = task_id(round, task_kind::task_kind_generate, slot),
          .job_id = setup_.job_id,
          .input = pt::generate_input{setup_.question, std::move(context)},
          .sampling = s};
}

search_step proof_search::verify(int32_t round, int32_t slot, pt::generate_output g,
                                 std::vector<int32_t> deps) {
  const int32_t m = setup_.params.verifications_per_proof;
  candidate& c = candidates_[{round, slot}];
  c = {.round = round, .slot = slot, .proof = std::move(g), .deps = std::move(deps),
       .unresolved = m};
  if (m == 0) return on_verified({round, slot});
  std::vector<pt::task_msg> tasks;
  for (int32_t j = 0; j < m; ++j) {
    tasks.push_back({.task_id = task_id(round, task_kind::task_kind_verify, slot, j),
                     .job_id = setup_.job_id,
                     .input = pt::verify_input{setup_.question, c.proof.solution},
                     .sampling = sampling(task_kind::task_kind_verify, round, slot, j, 0)});
  }
  return issue(std::move(tasks));
}

search_step proof_search::issue(std::vector<pt::task_msg> tasks) {
  search_step step;
  for (pt::task_msg& t : tasks) {
    if (done()) break; // an early result ended the problem: the rest is not wanted
    if (resolved_.contains(t.task_id) || open_.contains(t.task_id)) continue;
    open_[t.task_id] = t;
    if (auto dead = early_dead_.find(t.task_id); dead != early_dead_.end()) {
      const std::string reason = std::move(dead->second);
      early_dead_.erase(dead);
      step.append(dead_letter_of(t, reason, false));
      continue;
    }
    auto early = early_.find(t.task_id);
    if (early == early_.end()) {
      step.send.push_back(std::move(t));
      continue;
    }
    // Its result came first (a replay in ledger order): apply it now instead of sending it.
    const pt::task_result_msg result = std::move(early->second);
    early_.erase(early);
    step.append(on_result(result));
  }
  return step;
}

size_t proof_search::max_early() const {
  const search_params& p = setup_.params;
  const size_t per_proof = static_cast<size_t>(
      1 + p.verifications_per_proof * (1 + p.meta_verifications_per_rating));
  const size_t proofs_per_round = static_cast<size_t>(
      std::max(p.num_proofs, p.refinements * p.samples_per_refinement()));
  // Every round of every attempt (self-refine runs max_rounds per attempt).
  const size_t rounds = static_cast<size_t>(p.max_rounds + 1) *
                        static_cast<size_t>(p.empty_round_retries + 1);
  return per_proof * proofs_per_round * rounds + 16;
}

search_step proof_search::on_fact(const search_fact& fact) {
  if (done()) return {};
  if (const auto* stop = std::get_if<early_stop>(&fact)) {
    return stop->round >= 1 ? on_stop_mark(stop->round, stop->slots) : search_step{};
  }
  const dead_letter& d = std::get<dead_letter>(fact);
  if (!key_of(d.task_id) || resolved_.contains(d.task_id)) return {};
  auto it = open_.find(d.task_id);
  if (it != open_.end()) return dead_letter_of(it->second, d.reason, false);
  if (early_dead_.size() < max_early()) early_dead_.emplace(d.task_id, d.reason);
  return {};
}

search_step proof_search::on_result(const pt::task_result_msg& result) {
  if (!key_of(result.task_id)) return {};
  // Dead letters are the search's own facts (on_fact); from a worker this is a failure.
  const pt::task_status status = result.status == pt::task_status::task_status_given_up
                                     ? pt::task_status::task_status_failed
                                     : result.status;
  auto it = open_.find(result.task_id);
  if (it == open_.end()) {
    // Recorded already: idempotent. Not issued yet but ours: kept until its task is issued.
    if (!done() && !resolved_.contains(result.task_id) &&
        status != pt::task_status::task_status_failed &&
        status != pt::task_status::task_status_handed_back && early_.size() < max_early()) {
      early_.emplace(result.task_id, result);
    }
    return {};
  }
  pt::task_msg task = it->second;
  if (status == pt::task_status::task_status_handed_back) {
    // Not run (a worker shutting down): again, at no cost to its attempts, but not forever.
    if (++handed_back_[task.task_id] <= 16) return {.retry = {task}};
    return dead_letter_of(task, "handed back 16 times: " + result.error, true);
  }
  if (status == pt::task_status::task_status_failed) {
    if (static_cast<int32_t>(task.attempt) + 1 < setup_.params.max_attempts) {
      ++task.attempt;
      it->second = task;
      return {.retry = {task}};
    }
    return dead_letter_of(task, result.error, true);
  }
  open_.erase(it);
  resolved_.insert(task.task_id);
  // An output of another role's kind (a confused or hostile worker) counts as unparseable.
  const bool fits = result.output.index() == static_cast<size_t>(task.task_role()) + 1;
  if (status == pt::task_status::task_status_truncated) {
    ++counts_.truncated;
    return lost(task);
  }
  if (status != pt::task_status::task_status_ok || !fits) {
    ++counts_.unparseable;
    return lost(task);
  }
  return on_output(task, result);
}

search_step proof_search::dead_letter_of(const pt::task_msg& task, const std::string& reason,
                                         bool record) {
  ++counts_.dead_lettered;
  if (dead_.size() < 64) dead_.push_back({task.task_id, reason});
  open_.erase(task.task_id);
  resolved_.insert(task.task_id);
  search_step step;
  if (record) { // kept with the results: a resumed search must not try it again
    step.facts.push_back(dead_letter{.task_id = task.task_id, .reason = reason.substr(0, 1024)});
  }
  step.append(lost(task));
  return step;
}

search_step proof_search::lost(const pt::task_msg& task) {
  const std::optional<task_key> k = key_of(task.task_id);
  if (!k) return {};
  if (k->kind == task_kind::task_kind_generate) return on_lost_proof(k->round, k->slot);
  return resolve_in_candidate({k->round, k->slot});
}

search_step proof_search::resolve_in_candidate(const candidate_key& key) {
  auto it = candidates_.find(key);
  if (it == candidates_.end()) return {};
  if (--it->second.unresolved > 0) return {};
  return on_verified(key);
}

search_step proof_search::on_output(const pt::task_msg& task, const pt::task_result_msg& r) {
  const task_key t = *key_of(task.task_id); // an open task: one of ours
  if (const auto* g = std::get_if<pt::generate_output>(&r.output)) {
    ++counts_.proofs;
    return on_proof(t.round, t.slot, *g);
  }
  const candidate_key key{t.round, t.slot};
  auto c = candidates_.find(key);
  if (c == candidates_.end()) return {};
  search_step step;
  if (const auto* v = std::get_if<pt::verify_output>(&r.output)) {
    ++counts_.ratings;
    const int32_t j = t.rating;
    c->second.ratings[j] = {.rating = v->rating, .score = v->score};
    const int32_t k = setup_.params.meta_verifications_per_rating;
    if (v->score <= setup_.params.meta_threshold && k > 0) {
      c->second.unresolved += k;
      std::vector<pt::task_msg> metas;
      for (int32_t q = 0; q < k; ++q) {
        metas.push_back({.task_id = task_id(t.round, task_kind::task_kind_meta, key.second, j, q),
                         .job_id = setup_.job_id,
                         .input = pt::meta_verify_input{setup_.question,
                                                        c->second.proof.solution, v->rating},
                         .sampling =
                             sampling(task_kind::task_kind_meta, t.round, key.second, j, q)});
      }
      step = issue(std::move(metas));
    }
  } else if (const auto* m = std::get_if<pt::meta_verify_output>(&r.output)) {
    ++counts_.meta_ratings;
    if (m->quality >= setup_.params.meta_valid_from) ++counts_.meta_agreed;
    // By index, not arrival: a replay builds the same list.
    c->second.metas[t.rating][t.judgement] = {.quality = m->analysis, .score = m->quality};
  }
  step.append(resolve_in_candidate(key));
  return step;
}

round_proof proof_search::pooled_form(const candidate& c) const {
  round_proof out{.proof = c.proof.solution,
                  .self_eval = c.proof.self_eval,
                  .self_eval_score = c.proof.self_eval_score,
                  .dep_proof_ids = c.deps,
                  .round_idx = c.round};
  for (auto [j, r] : c.ratings) {
    if (auto m = c.metas.find(j); m != c.metas.end()) {
      for (const auto& [q, judgement] : m->second) r.quality.push_back(judgement);
    }
    (rating_counts(c, j) ? out.ratings : out.dropped).push_back(r);
  }
  return out;
}

bool proof_search::rating_counts(const candidate& c, int32_t j) const {
  if (!setup_.params.meta_counts) return true;
  auto m = c.metas.find(j);
  if (m == c.metas.end()) return true;
  size_t invalid = 0;
  for (const auto& [q, judgement] : m->second) {
    if (judgement.score < setup_.params.meta_valid_from) ++invalid;
  }
  return invalid * 2 <= m->second.size();
}

search_step proof_search::withdraw_round(int32_t round) {
  const std::string prefix =
      task_key{.job = setup_.job_id, .problem = setup_.problem_id, .round = round}.round_prefix();
  search_step step;
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->first.rfind(prefix, 0) != 0) {
      ++it;
      continue;
    }
    step.withdraw.push_back(it->first);
    resolved_.insert(it->first);
    it = open_.erase(it);
  }
  return step;
}

search_step proof_search::finish(problem_status status, std::string reason) {
  search_step step;
  status_ = status;
  reason_ = std::move(reason);
  for (auto& [id, task] : open_) {
    step.withdraw.push_back(id);
    resolved_.insert(id);
  }
  open_.clear();
  early_.clear();
  early_dead_.clear();
  return step;
}

} // namespace proofmesh::pipeline
