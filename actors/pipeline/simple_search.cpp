#include "actors/pipeline/simple_search.hpp"

#include <charconv>
#include <iterator>

namespace proofmesh::pipeline {

namespace pt = proofmesh::transport;

namespace {

// The trailing indices of a task id ("…/verify/3/1" -> {3, 1}).
std::vector<int32_t> indices(const std::string& id, size_t count) {
  std::vector<int32_t> out(count, 0);
  size_t end = id.size();
  for (size_t k = count; k-- > 0;) {
    const size_t slash = id.rfind('/', end - 1);
    const char* first = id.data() + slash + 1;
    std::from_chars(first, id.data() + end, out[k]);
    end = slash;
  }
  return out;
}

} // namespace

double proof_record::mean_score() const {
  if (ratings.empty()) {
    return 0;
  }
  double sum = 0;
  for (const auto& [i, r] : ratings) {
    sum += r.score;
  }
  return sum / static_cast<double>(ratings.size());
}

simple_search::simple_search(std::string job_id, std::string problem_id, std::string question,
                             search_params params)
    : job_id_(std::move(job_id)), problem_id_(std::move(problem_id)),
      question_(std::move(question)), params_(params) {}

pt::task_msg simple_search::make(std::string id, pt::task_input input, uint64_t stream) const {
  pt::sampling_spec s = params_.sampling;
  s.stream = stream;
  return {.task_id = std::move(id), .job_id = job_id_, .input = std::move(input), .sampling = s};
}

std::vector<pt::task_msg> simple_search::start() {
  std::vector<pt::task_msg> out;
  for (int32_t i = 0; i < params_.num_proofs; ++i) {
    const std::string id = job_id_ + "/" + problem_id_ + "/r0/gen/" + std::to_string(i);
    if (open_.contains(id) || resolved_.contains(id)) {
      continue;
    }
    out.push_back(make(id, pt::generate_input{question_, ""}, static_cast<uint64_t>(i)));
  }
  return issue(std::move(out));
}

std::vector<pt::task_msg> simple_search::issue(std::vector<pt::task_msg> tasks) {
  std::vector<pt::task_msg> out;
  for (pt::task_msg& t : tasks) {
    open_[t.task_id] = t;
    auto early = early_.find(t.task_id);
    if (early == early_.end()) {
      out.push_back(std::move(t));
      continue;
    }
    // Its result came first (a replay in ledger order): apply it now instead of sending it.
    const pt::task_result_msg result = std::move(early->second);
    early_.erase(early);
    std::vector<pt::task_msg> more = on_result(result);
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return out;
}

size_t simple_search::max_tasks() const {
  const size_t n = static_cast<size_t>(params_.num_proofs);
  const size_t m = static_cast<size_t>(params_.verifications_per_proof);
  const size_t k = static_cast<size_t>(params_.meta_verifications_per_rating);
  return n * (1 + m * (1 + k));
}

std::vector<pt::task_msg> simple_search::on_result(const pt::task_result_msg& result) {
  auto it = open_.find(result.task_id);
  if (it == open_.end()) {
    // Recorded already: idempotent. Not issued yet but ours: kept until its task is issued, so
    // the state is the same whatever order results arrive in. Anything else: ignored.
    const std::string ours = job_id_ + "/" + problem_id_ + "/";
    if (!resolved_.contains(result.task_id) && result.task_id.rfind(ours, 0) == 0 &&
        early_.size() < max_tasks()) {
      early_.emplace(result.task_id, result);
    }
    return {};
  }
  pt::task_msg task = it->second;
  if (result.status == pt::task_status::task_status_failed) {
    if (static_cast<int32_t>(task.attempt) + 1 < params_.max_attempts) {
      ++task.attempt;
      it->second = task;
      return {task};
    }
    ++counts_.given_up;
    open_.erase(it);
    resolved_.insert(task.task_id);
    return {};
  }
  open_.erase(it);
  resolved_.insert(task.task_id);
  // An output of another role's kind (a confused or hostile worker) counts as unparseable.
  const bool fits = result.output.index() == static_cast<size_t>(task.task_role()) + 1;
  if (result.status != pt::task_status::task_status_ok || !fits) {
    ++counts_.given_up;
    return {};
  }
  return on_output(task, result);
}

std::vector<pt::task_msg> simple_search::on_output(const pt::task_msg& task,
                                                   const pt::task_result_msg& result) {
  std::vector<pt::task_msg> next;
  const std::string prefix = job_id_ + "/" + problem_id_ + "/r0/";
  if (const auto* g = std::get_if<pt::generate_output>(&result.output)) {
    const int32_t p = indices(task.task_id, 1)[0];
    proofs_[p] = {.index = p, .solution = g->solution, .self_eval = g->self_eval,
                  .self_eval_score = g->self_eval_score};
    ++counts_.proofs;
    for (int32_t j = 0; j < params_.verifications_per_proof; ++j) {
      next.push_back(make(prefix + "verify/" + std::to_string(p) + "/" + std::to_string(j),
                          pt::verify_input{question_, g->solution},
                          static_cast<uint64_t>(p * 1000 + j)));
    }
  } else if (const auto* v = std::get_if<pt::verify_output>(&result.output)) {
    const std::vector<int32_t> pj = indices(task.task_id, 2);
    proof_record& proof = proofs_.at(pj[0]);
    proof.ratings[pj[1]] = {.text = v->rating, .score = v->score};
    ++counts_.ratings;
    if (v->score <= params_.meta_threshold) {
      for (int32_t k = 0; k < params_.meta_verifications_per_rating; ++k) {
        next.push_back(make(prefix + "meta/" + std::to_string(pj[0]) + "/" +
                                std::to_string(pj[1]) + "/" + std::to_string(k),
                            pt::meta_verify_input{question_, proof.solution, v->rating},
                            static_cast<uint64_t>((pj[0] * 1000 + pj[1]) * 100 + k)));
      }
    }
  } else if (const auto* m = std::get_if<pt::meta_verify_output>(&result.output)) {
    const std::vector<int32_t> pjk = indices(task.task_id, 3);
    proofs_.at(pjk[0]).ratings.at(pjk[1]).meta.push_back(*m);
    ++counts_.meta_ratings;
  }
  return issue(std::move(next));
}

std::optional<proof_record> simple_search::best() const {
  const proof_record* best = nullptr;
  for (const auto& [i, p] : proofs_) {
    if (best == nullptr || p.mean_score() > best->mean_score() ||
        (p.mean_score() == best->mean_score() && p.self_eval_score > best->self_eval_score)) {
      best = &p;
    }
  }
  return best == nullptr ? std::nullopt : std::optional<proof_record>(*best);
}

} // namespace proofmesh::pipeline
