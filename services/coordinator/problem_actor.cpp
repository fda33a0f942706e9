#include "services/coordinator/problem_actor.hpp"

#include "actors/pipeline/pool_record.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;
using nlohmann::json;

namespace {

std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

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
    self->send(sink, pool_atom::value,
               pooled_proof{.job = st.job_id, .problem = st.problem_id, .proof_id = id,
                            .record = dumped(pp::pool_record_json(*p)),
                            .meanscore = p->meanscore});
  }
}

// Rounds closed since the last report, and the problem's end: progress events, each under the
// id of the fact it reports. Called for every result, so it looks at the pool (a scan) only when
// there is an event to write.
void send_events(problem_pointer self, const coordinator_sink& sink) {
  problem_state& st = self->state;
  const pp::proof_search& s = *st.search;
  const bool round_closed = s.counts().rounds > st.rounds_reported;
  const bool ended = s.done() && !st.reported_done;
  if (!round_closed && !ended) return;
  const pp::pool_proof* best = s.pool().best();
  for (; st.rounds_reported < s.counts().rounds; ++st.rounds_reported) {
    const int64_t round = st.rounds_reported + 1;
    const bool last = round == s.counts().rounds; // the pool as it stands is this round's
    json ev = {{"type", "round"}, {"problem", st.problem_id}, {"round", round}};
    if (last) {
      ev["pool"] = s.pool().proofs().size();
      ev["best_meanscore"] = best ? json(best->meanscore) : json(nullptr);
    }
    self->send(sink, event_atom::value,
               job_event{.job = st.job_id,
                         .id = "round/" + st.problem_id + "/" + std::to_string(round),
                         .json = dumped(ev)});
  }
  if (ended) {
    json ev = {{"type", "problem_done"}, {"problem", st.problem_id},
               {"status", pp::problem_status_name(s.status())}, {"reason", s.status_reason()},
               {"rounds", s.counts().rounds}, {"pool", s.pool().proofs().size()}};
    if (best != nullptr) {
      ev["best"] = {{"proof_id", best->proof_id}, {"meanscore", best->meanscore},
                    {"verifications", best->num_ratings()}};
    }
    self->send(sink, event_atom::value,
               job_event{.job = st.job_id, .id = "problem_done/" + st.problem_id,
                         .json = dumped(ev)});
  }
}

// What a step of the search asks for, carried out: facts first (in the ledger before anything
// that follows from them), then tasks, retries, withdrawals and pooled proofs.
void carry_out(problem_pointer self, const coordinator_sink& sink, pp::search_step step) {
  const problem_state& st = self->state;
  for (pp::search_fact& fact : step.facts) {
    self->send(sink, fact_atom::value,
               problem_fact{.job = st.job_id, .problem = st.problem_id, .fact = std::move(fact)});
  }
  if (!step.send.empty()) self->send(sink, tasks_atom::value, std::move(step.send));
  for (pt::task_msg& t : step.retry) {
    const auto delay = backoff(t.attempt);
    self->delayed_send(self, delay, retry_atom::value, std::vector<pt::task_msg>{std::move(t)});
  }
  if (!step.withdraw.empty()) self->send(sink, withdraw_atom::value, std::move(step.withdraw));
  send_pooled(self, sink, step.pooled);
}

// Done and replayed: say so to the job, once.
void report_if_done(problem_pointer self, const job_actor& job) {
  problem_state& st = self->state;
  if (st.reported_done || !st.search->done() || st.search->replaying()) return;
  st.reported_done = true;
  self->send(job, problem_done_atom::value, summarize(st.problem_id, *st.search));
}

// Everything a live step does after the search has moved: its work out, its events, and the
// sink woken.
void after_step(problem_pointer self, const problem_actor_params& p, pp::search_step step) {
  carry_out(self, p.sink, std::move(step));
  send_events(self, p.sink);
  p.waker->notify();
  report_if_done(self, p.job);
}

} // namespace

problem_summary summarize(const std::string& problem_id, const pp::proof_search& search) {
  problem_summary out{.problem_id = problem_id,
                      .status = search.status(),
                      .reason = search.status_reason(),
                      .counts = search.counts(),
                      .pool_size = static_cast<int64_t>(search.pool().proofs().size()),
                      .dead_letters = search.dead_letters()};
  if (const pp::pool_proof* best = search.pool().best()) out.best = *best;
  for (const auto& [id, task] : search.open_tasks()) out.open_tasks.push_back(id);
  return out;
}

problem_actor::behavior_type problem_actor_impl(problem_pointer self, problem_actor_params p) {
  problem_state& st = self->state;
  st.job_id = p.job_id;
  st.problem_id = p.problem.problem_id;
  st.search = pp::proof_search::make({.job_id = p.job_id, .problem_id = p.problem.problem_id,
                                      .question = p.problem.question, .params = p.params,
                                      .replaying = true});
  st.search->start(); // its tasks go out at `replayed`, after the ledger's results
  // The job counts this problem's open tasks from here, not from a guess.
  self->send(p.job, report_atom::value,
             task_report{.problem = st.problem_id,
                         .open = static_cast<int64_t>(st.search->open_tasks().size())});
  return {
      [=](result_atom, const pt::task_result_msg& result) {
        problem_state& s = self->state;
        const bool replaying = s.search->replaying();
        const bool was_open = s.search->open_tasks().contains(result.task_id);
        pp::search_step step = s.search->on_result(result);
        // A replayed result is a recorded one, whether or not its task is issued yet; a live one
        // counts if its task was waiting for it.
        if (replaying || was_open) {
          const bool recorded = is_recorded(result.status) &&
                                (replaying || !s.search->open_tasks().contains(result.task_id));
          self->send(p.job, report_atom::value,
                     task_report{.problem = s.problem_id, .task_id = result.task_id,
                                 .status = result.status, .elapsed_ms = result.elapsed_ms,
                                 .error = result.error, .recorded = recorded,
                                 .open = static_cast<int64_t>(s.search->open_tasks().size())});
        }
        if (replaying) return; // open tasks go out once, at `replayed`
        after_step(self, p, std::move(step));
      },
      [=](fact_atom, const pp::search_fact& fact) {
        pp::search_step step = self->state.search->on_fact(fact); // only ever replayed
        if (!self->state.search->replaying()) after_step(self, p, std::move(step));
      },
      [=](replayed_atom) {
        problem_state& s = self->state;
        if (!s.search->replaying()) return;
        // A stop it decides now is recorded; what it withdraws was never sent from here.
        pp::search_step resumed = s.search->resume();
        resumed.send.clear();
        resumed.withdraw.clear();
        for (const auto& [id, task] : s.search->open_tasks()) resumed.send.push_back(task);
        for (const pp::pool_proof& proof : s.search->pool().proofs()) {
          resumed.pooled.push_back(proof.proof_id); // a replay writes the same records again
        }
        after_step(self, p, std::move(resumed));
      },
      [=](retry_atom, std::vector<pt::task_msg> tasks) {
        const auto& open = self->state.search->open_tasks();
        std::erase_if(tasks, [&](const pt::task_msg& t) { return !open.contains(t.task_id); });
        if (tasks.empty()) return;
        self->send(p.sink, tasks_atom::value, std::move(tasks));
        p.waker->notify();
      },
      [=](summary_atom) -> problem_summary {
        return summarize(self->state.problem_id, *self->state.search);
      },
  };
}

} // namespace proofmesh::coordinator
