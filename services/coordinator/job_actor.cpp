#include "services/coordinator/job_actor.hpp"

#include "services/coordinator/problem_actor.hpp"

#include <nlohmann/json.hpp>

#include <memory>

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;
using nlohmann::json;

namespace {

const char* status_name(pt::task_status s) {
  switch (s) {
    case pt::task_status::task_status_ok: return "ok";
    case pt::task_status::task_status_unparseable: return "unparseable";
    case pt::task_status::task_status_failed: return "failed";
    case pt::task_status::task_status_truncated: return "truncated";
    case pt::task_status::task_status_given_up: return "given_up";
    case pt::task_status::task_status_handed_back: return "handed_back";
  }
  return "unknown";
}

json best_json(const pp::pool_proof& best) {
  json ratings = json::array();
  for (const auto& [score, list] : best.score2ratings) {
    for (const pp::pool_rating& r : list) {
      ratings.push_back({{"score", score}, {"rating", r.rating}});
    }
  }
  return {{"proof_id", best.proof_id},         {"proof", best.proof},
          {"meanscore", best.meanscore},       {"self_eval_score", best.self_eval_score},
          {"verifications", best.num_ratings()}, {"round_idx", best.round_idx},
          {"dep_proof_ids", best.dep_proof_ids}, {"ratings", ratings}};
}

// A problem's part of the result: problem_id, status, reason, rounds, counts,
// meta_verification {judged, agreed, agreement}, pool_size, dead_letters, and best (the final
// selection) with its ratings.
json problem_json(const problem_summary& s) {
  const pp::search_counts& n = s.counts;
  json dead = json::array();
  for (const pp::dead_letter& d : s.dead_letters) {
    dead.push_back({{"task", d.task_id}, {"reason", d.reason}});
  }
  json p = {{"problem_id", s.problem_id},
            {"status", pp::problem_status_name(s.status)},
            {"reason", s.reason},
            {"rounds", n.rounds},
            {"counts", {{"proofs", n.proofs}, {"ratings", n.ratings},
                        {"meta_ratings", n.meta_ratings}, {"ratings_dropped", n.ratings_dropped},
                        {"truncated", n.truncated}, {"unparseable", n.unparseable},
                        {"dead_lettered", n.dead_lettered}}},
            {"meta_verification",
             {{"judged", n.meta_ratings}, {"agreed", n.meta_agreed},
              {"agreement", n.meta_ratings > 0 ? json(static_cast<double>(n.meta_agreed) /
                                                      static_cast<double>(n.meta_ratings))
                                               : json(nullptr)}}},
            {"pool_size", s.pool_size},
            {"dead_letters", dead}};
  if (s.best) p["best"] = best_json(*s.best);
  return p;
}

// A problem's report as the job's result event: recorded results under their task's id (one
// event each, however often a resume replays them); failed attempts as occurrences.
job_event result_event(const job_state& st, const task_report& r) {
  int64_t open = 0;
  for (const auto& [problem, n] : st.open) open += n;
  json ev = {{"type", "result"}, {"task", r.task_id}, {"status", status_name(r.status)},
             {"done", st.done}, {"open", open}, {"elapsed_ms", r.elapsed_ms}};
  if (!r.error.empty()) ev["error"] = r.error; // why it failed
  return {.job = st.job_id, .id = r.recorded ? "result/" + r.task_id : std::string(),
          .json = ev.dump(-1, ' ', false, json::error_handler_t::replace)};
}

job_outcome outcome(const job_state& st, pt::job_status status,
                    const std::map<std::string, problem_summary>& summaries) {
  job_outcome out{.job = st.job_id, .status = status};
  std::vector<problem_summary> in_order;
  for (const std::string& id : st.order) {
    in_order.push_back(summaries.at(id));
    const auto& open = in_order.back().open_tasks;
    out.open_tasks.insert(out.open_tasks.end(), open.begin(), open.end());
  }
  out.result_json = job_result_json(st.job_id, status, in_order);
  return out;
}

} // namespace

std::string job_result_json(const std::string& job_id, pt::job_status status,
                            const std::vector<problem_summary>& problems) {
  json list = json::array();
  int64_t solved = 0;
  for (const problem_summary& s : problems) {
    list.push_back(problem_json(s));
    if (s.status == pp::problem_status::problem_status_solved) ++solved;
  }
  return json{{"id", job_id}, {"status", pt::job_status_name(status)}, {"solved", solved},
              {"problems", list}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

job_actor::behavior_type job_actor_impl(job_pointer self, std::string job_id, pp::job_spec spec,
                                        coordinator_sink sink,
                                        std::shared_ptr<const loop_waker> waker) {
  job_state& st = self->state;
  st.job_id = job_id;
  const job_actor me = caf::actor_cast<job_actor>(self);
  for (const pp::job_problem& p : spec.problems) {
    st.order.push_back(p.problem_id);
    // Linked: a problem that dies takes its job down with it, and the other way round.
    st.problems.emplace(p.problem_id,
                        self->spawn<caf::linked>(problem_actor_impl,
                                                 problem_actor_params{.job_id = job_id,
                                                                      .problem = p,
                                                                      .params = spec.params,
                                                                      .job = me,
                                                                      .sink = sink,
                                                                      .waker = waker}));
  }
  auto to_problem = [self](const std::string& problem) -> const problem_actor* {
    auto it = self->state.problems.find(problem);
    return it == self->state.problems.end() ? nullptr : &it->second;
  };
  return {
      [=](result_atom, const pt::task_result_msg& result) {
        const std::optional<pp::task_key> key = pp::task_key::parse(result.task_id);
        if (!key) return;
        if (const problem_actor* p = to_problem(key->problem)) {
          self->send(*p, result_atom::value, result);
        }
      },
      [=](fact_atom, const problem_fact& f) {
        if (const problem_actor* p = to_problem(f.problem)) {
          self->send(*p, fact_atom::value, f.fact);
        }
      },
      [=](replayed_atom) {
        for (const auto& [id, problem] : self->state.problems) {
          self->send(problem, replayed_atom::value);
        }
      },
      [=](report_atom, const task_report& r) {
        job_state& s = self->state;
        s.open[r.problem] = r.open;
        if (r.task_id.empty()) return; // a problem's first count of its open tasks
        if (r.recorded) ++s.done;
        self->send(sink, event_atom::value, result_event(s, r));
        waker->notify();
      },
      [=](problem_done_atom, const problem_summary& summary) {
        job_state& s = self->state;
        s.summaries[summary.problem_id] = summary;
        if (s.reported || s.summaries.size() != s.problems.size()) return;
        s.reported = true;
        self->send(sink, job_done_atom::value,
                   outcome(s, pt::job_status::job_status_completed, s.summaries));
        waker->notify();
      },
      [=](summary_atom, pt::job_status status) -> caf::result<job_outcome> {
        // Every problem's summary as it stands, gathered, then one answer.
        auto rp = self->make_response_promise<job_outcome>();
        auto got = std::make_shared<std::map<std::string, problem_summary>>();
        const size_t want = self->state.problems.size();
        for (const auto& [id, problem] : self->state.problems) {
          self->request(problem, caf::infinite, summary_atom::value)
              .then([=](const problem_summary& summary) mutable {
                (*got)[summary.problem_id] = summary;
                if (got->size() == want) rp.deliver(outcome(self->state, status, *got));
              });
        }
        return rp;
      },
  };
}

} // namespace proofmesh::coordinator
