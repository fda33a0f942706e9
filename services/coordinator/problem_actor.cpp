#include "services/coordinator/problem_actor.hpp"

#include "actors/transport/wire_codec.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <string>

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;

namespace {

std::vector<std::string> encoded(const std::vector<pt::task_msg>& tasks) {
  std::vector<std::string> out;
  for (const pt::task_msg& t : tasks) {
    std::vector<uint8_t> bytes = pt::encode(t);
    out.emplace_back(bytes.begin(), bytes.end());
  }
  return out;
}

// The proof a task id "job/problem/rN/kind/p[/j[/k]]" concerns, or -1. Read past the job and
// problem ids, which may themselves be "gen" or "meta".
int32_t proof_of(const problem_state& st, const std::string& task_id) {
  const std::string prefix = st.job_id + "/" + st.problem_id + "/";
  if (task_id.rfind(prefix, 0) != 0) return -1;
  const size_t round_end = task_id.find('/', prefix.size()); // after "rN"
  const size_t kind_end =
      round_end == std::string::npos ? round_end : task_id.find('/', round_end + 1);
  if (kind_end == std::string::npos) return -1;
  int32_t p = -1;
  std::from_chars(task_id.data() + kind_end + 1, task_id.data() + task_id.size(), p);
  return p;
}

// A proof as the pool keeps it: its text, self-evaluation, ratings and their meta-verdicts.
void send_proof(problem_pointer self, const coordinator_sink& sink, int32_t index) {
  const problem_state& st = self->state;
  auto it = st.search->proofs().find(index);
  if (it == st.search->proofs().end()) return;
  const pp::proof_record& p = it->second;
  nlohmann::json ratings = nlohmann::json::array();
  for (const auto& [j, r] : p.ratings) {
    nlohmann::json metas = nlohmann::json::array();
    for (const pt::meta_verify_output& m : r.meta) metas.push_back(m.quality);
    ratings.push_back({{"index", j}, {"score", r.score}, {"meta_quality", metas}});
  }
  const nlohmann::json proof = {{"index", p.index},
                                {"solution", p.solution},
                                {"self_eval_score", p.self_eval_score},
                                {"mean_score", p.mean_score()},
                                {"ratings", ratings}};
  self->send(sink, pool_atom::value, st.job_id, st.problem_id, index,
             proof.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
             p.mean_score());
}

// Done and replayed: say so to the job, once.
void report_if_done(problem_pointer self, const job_actor& job) {
  problem_state& st = self->state;
  if (st.replaying || st.reported_done || !st.search->done()) return;
  st.reported_done = true;
  self->send(job, problem_done_atom::value, st.problem_id,
             problem_summary(st.problem_id, *st.search));
}

} // namespace

std::string problem_summary(const std::string& problem_id, const pp::simple_search& search) {
  pp::search_counts n = search.counts();
  nlohmann::json p = {{"problem_id", problem_id},
                      {"counts", {{"proofs", n.proofs}, {"ratings", n.ratings},
                                  {"meta_ratings", n.meta_ratings}, {"given_up", n.given_up}}}};
  if (auto best = search.best()) {
    p["best"] = {{"proof_index", best->index}, {"mean_score", best->mean_score()},
                 {"self_eval_score", best->self_eval_score}, {"solution", best->solution}};
  }
  return p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

problem_actor::behavior_type problem_actor_impl(problem_pointer self, std::string job_id,
                                                pp::job_problem problem, pp::search_params params,
                                                job_actor job, coordinator_sink sink,
                                                std::shared_ptr<const loop_waker> waker) {
  problem_state& st = self->state;
  st.job_id = job_id;
  st.problem_id = problem.problem_id;
  st.search.emplace(job_id, problem.problem_id, problem.question, params);
  st.search->start();
  return {
      [=](result_atom, const std::string& bytes) {
        problem_state& s = self->state;
        pt::decode_result d = pt::decode(
            std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        if (!d.message || !std::holds_alternative<pt::task_result_msg>(*d.message)) return;
        std::vector<pt::task_msg> next =
            s.search->on_result(std::get<pt::task_result_msg>(*d.message));
        if (s.replaying) return; // open tasks go out once, at `replayed`
        if (!next.empty()) self->send(sink, tasks_atom::value, encoded(next));
        send_proof(self, sink, proof_of(s, std::get<pt::task_result_msg>(*d.message).task_id));
        self->send(sink, resolved_atom::value, s.job_id, s.problem_id,
                   static_cast<int64_t>(s.search->open_tasks().size()));
        waker->notify();
        report_if_done(self, job);
      },
      [=](replayed_atom) {
        problem_state& s = self->state;
        if (!s.replaying) return;
        s.replaying = false;
        std::vector<pt::task_msg> open;
        for (const auto& [id, task] : s.search->open_tasks()) open.push_back(task);
        if (!open.empty()) self->send(sink, tasks_atom::value, encoded(open));
        for (const auto& [index, proof] : s.search->proofs()) send_proof(self, sink, index);
        waker->notify();
        report_if_done(self, job);
      },
      [=](summary_atom) -> std::string {
        return problem_summary(self->state.problem_id, *self->state.search);
      },
  };
}

} // namespace proofmesh::coordinator
