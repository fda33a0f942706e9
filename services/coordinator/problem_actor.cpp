#include "services/coordinator/problem_actor.hpp"

#include "actors/pipeline/pool_record.hpp"
#include "actors/transport/wire_codec.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;
using nlohmann::json;

namespace {

std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::vector<std::string> encoded(const std::vector<pt::task_msg>& tasks) {
  std::vector<std::string> out;
  for (const pt::task_msg& t : tasks) {
    std::vector<uint8_t> bytes = pt::encode(t);
    out.emplace_back(bytes.begin(), bytes.end());
  }
  return out;
}

std::chrono::milliseconds backoff(uint32_t attempt) {
  const uint32_t doublings = std::min<uint32_t>(attempt > 0 ? attempt - 1 : 0, 5);
  return std::min(std::chrono::milliseconds(250) * (1u << doublings),
                  std::chrono::milliseconds(8000));
}

void send_pooled(problem_pointer self, const coordinator_sink& sink,
                 const std::vector<int32_t>& ids) {
  const problem_state& st = self->state;
  for (int32_t id : ids) {
    const pp::pool_proof* p = st.search->pool().find(id);
    if (p == nullptr) continue;
    self->send(sink, pool_atom::value, st.job_id, st.problem_id, id,
               dumped(pp::pool_record_json(*p)), p->meanscore);
  }
}

// Rounds closed since the last report, and the problem's end: progress events. Called for every
// result, so it looks at the pool (a scan) only when there is an event to write.
void send_events(problem_pointer self, const coordinator_sink& sink) {
  problem_state& st = self->state;
  const pp::proof_search& s = *st.search;
  const bool round_closed = s.counts().rounds > st.rounds_reported;
  const bool ended = s.done() && !st.reported_done;
  if (!round_closed && !ended) return;
  const pp::pool_proof* best = s.pool().best();
  if (round_closed) {
    st.rounds_reported = s.counts().rounds;
    self->send(sink, event_atom::value, st.job_id,
               dumped({{"type", "round"}, {"problem", st.problem_id},
                       {"round", s.counts().rounds}, {"pool", s.pool().proofs().size()},
                       {"best_meanscore", best ? json(best->meanscore) : json(nullptr)}}));
  }
  if (ended) {
    json ev = {{"type", "problem_done"}, {"problem", st.problem_id},
               {"status", pp::problem_status_name(s.status())}, {"reason", s.status_reason()},
               {"rounds", s.counts().rounds}, {"pool", s.pool().proofs().size()}};
    if (best != nullptr) {
      ev["best"] = {{"proof_id", best->proof_id}, {"meanscore", best->meanscore},
                    {"verifications", best->num_ratings()}};
    }
    self->send(sink, event_atom::value, st.job_id, dumped(ev));
  }
}

// What a step of the search asks for, carried out: facts first (in the ledger before anything
// that follows from them), then tasks, retries, withdrawals and pooled proofs.
void carry_out(problem_pointer self, const coordinator_sink& sink, pp::search_step step) {
  for (const pt::task_result_msg& fact : step.facts) {
    std::vector<uint8_t> bytes = pt::encode(fact);
    self->send(sink, fact_atom::value, self->state.job_id, std::string(bytes.begin(), bytes.end()));
  }
  if (!step.send.empty()) self->send(sink, tasks_atom::value, encoded(step.send));
  for (const pt::task_msg& t : step.retry) {
    self->delayed_send(self, backoff(t.attempt), retry_atom::value, encoded({t}));
  }
  if (!step.withdraw.empty()) self->send(sink, withdraw_atom::value, step.withdraw);
  send_pooled(self, sink, step.pooled);
}

// Done and replayed: say so to the job, once.
void report_if_done(problem_pointer self, const job_actor& job) {
  problem_state& st = self->state;
  if (st.reported_done || !st.search->done()) return;
  st.reported_done = true;
  self->send(job, problem_done_atom::value, st.problem_id,
             problem_summary(st.problem_id, *st.search));
}

json best_json(const pp::pool_proof& best) {
  json ratings = json::array();
  for (const auto& [score, list] : best.score2ratings) {
    for (const pp::pool_rating& r : list) ratings.push_back({{"score", score}, {"rating", r.rating}});
  }
  return {{"proof_id", best.proof_id},         {"proof", best.proof},
          {"meanscore", best.meanscore},       {"self_eval_score", best.self_eval_score},
          {"verifications", best.num_ratings()}, {"round_idx", best.round_idx},
          {"dep_proof_ids", best.dep_proof_ids}, {"ratings", ratings}};
}

} // namespace

std::string problem_summary(const std::string& problem_id, const pp::proof_search& search) {
  const pp::search_counts& n = search.counts();
  json dead = json::array();
  for (const pp::dead_letter& d : search.dead_letters()) {
    dead.push_back({{"task", d.task_id}, {"reason", d.reason}});
  }
  json p = {{"problem_id", problem_id},
            {"status", pp::problem_status_name(search.status())},
            {"reason", search.status_reason()},
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
            {"pool_size", search.pool().proofs().size()},
            {"dead_letters", dead}};
  if (const pp::pool_proof* best = search.pool().best()) p["best"] = best_json(*best);
  return dumped(p);
}

problem_actor::behavior_type problem_actor_impl(problem_pointer self, problem_actor_params p) {
  problem_state& st = self->state;
  st.job_id = p.job_id;
  st.problem_id = p.problem.problem_id;
  st.search = pp::proof_search::make({.job_id = p.job_id, .problem_id = p.problem.problem_id,
                                      .question = p.problem.question, .params = p.params,
                                      .replaying = true});
  st.search->start(); // its tasks go out at `replayed`, after the ledger's results
  const coordinator_sink sink = p.sink;
  const job_actor job = p.job;
  const std::shared_ptr<const loop_waker> waker = p.waker;
  return {
      [=](result_atom, const std::string& bytes) {
        problem_state& s = self->state;
        pt::decode_result d = pt::decode(
            std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        if (!d.message || !std::holds_alternative<pt::task_result_msg>(*d.message)) return;
        pp::search_step step = s.search->on_result(std::get<pt::task_result_msg>(*d.message));
        if (s.search->replaying()) return; // open tasks go out once, at `replayed`
        carry_out(self, sink, std::move(step));
        self->send(sink, resolved_atom::value, s.job_id, s.problem_id,
                   static_cast<int64_t>(s.search->open_tasks().size()));
        send_events(self, sink);
        waker->notify();
        report_if_done(self, job);
      },
      [=](replayed_atom) {
        problem_state& s = self->state;
        if (!s.search->replaying()) return;
        // A stop it decides now is recorded; what it withdraws was never sent from here.
        pp::search_step resumed = s.search->resume();
        resumed.send.clear();
        resumed.withdraw.clear();
        carry_out(self, sink, std::move(resumed));
        std::vector<pt::task_msg> open;
        for (const auto& [id, task] : s.search->open_tasks()) open.push_back(task);
        if (!open.empty()) self->send(sink, tasks_atom::value, encoded(open));
        std::vector<int32_t> all;
        for (const pp::pool_proof& proof : s.search->pool().proofs()) all.push_back(proof.proof_id);
        send_pooled(self, sink, all);
        send_events(self, sink);
        waker->notify();
        report_if_done(self, job);
      },
      [=](retry_atom, const std::vector<std::string>& tasks) {
        problem_state& s = self->state;
        std::vector<std::string> wanted;
        for (const std::string& bytes : tasks) {
          pt::decode_result d = pt::decode(
              std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
          if (!d.message || !std::holds_alternative<pt::task_msg>(*d.message)) continue;
          const auto it = s.search->open_tasks().find(std::get<pt::task_msg>(*d.message).task_id);
          if (it != s.search->open_tasks().end()) wanted.push_back(bytes);
        }
        if (wanted.empty()) return;
        self->send(sink, tasks_atom::value, wanted);
        waker->notify();
      },
      [=](summary_atom) -> std::string {
        return problem_summary(self->state.problem_id, *self->state.search);
      },
  };
}

} // namespace proofmesh::coordinator
