#include "services/coordinator/job_runs.hpp"

#include "actors/common/error.hpp"
#include "actors/pipeline/job_spec.hpp"
#include "actors/pipeline/task_key.hpp"
#include "actors/transport/redis_keys.hpp"
#include "services/coordinator/job_actor.hpp"

#include <nlohmann/json.hpp>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;

job_runs::job_runs(caf::actor_system& sys, const job_runs_params& params)
    : self_(sys), p_(params),
      completed_(params.metrics.counter("proofmesh_coordinator_jobs_completed_total",
                                        "jobs done")),
      cancelled_(params.metrics.counter("proofmesh_coordinator_jobs_cancelled_total",
                                        "jobs cancelled on request")),
      dead_(params.metrics.counter("proofmesh_coordinator_jobs_dead_lettered_total",
                                   "malformed jobs moved to jobs:dead")),
      results_(params.metrics.counter("proofmesh_coordinator_results_total",
                                      "task results recorded")) {}

job_runs::~job_runs() {
  for (auto& [id, r] : jobs_) self_->send_exit(r.actor, caf::exit_reason::user_shutdown);
}

const job_runs::run* job_runs::running(const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

bool job_runs::owns(const std::string& task_id) const {
  return jobs_.contains(std::string(pp::job_of(task_id)));
}

job_work job_runs::flush() {
  waker_->clear(); // before reading: a notify after this point wakes the next poll
  take_mailbox();
  job_work out;
  try {
    for (; !claimed_.empty(); claimed_.pop_front()) start(claimed_.front());
    for (; !outbox_.empty(); outbox_.pop_front()) carry_out(outbox_.front(), out);
    for (; !inbox_.empty(); inbox_.pop_front()) deliver(inbox_.front());
    if (waiting_) p_.log.line("info", "redis answers again; the queued work is written");
    waiting_.reset();
  } catch (const pt::redis_unavailable& e) {
    if (!waiting_) p_.log.line("warn", std::string("waiting for redis: ") + e.what());
    waiting_ = e.what();
  }
  return out;
}

void job_runs::dead_letter(const pt::job_entry& e, const std::string& reason) {
  p_.redis.command({"XADD", keys::jobs_dead, "*", "entry", e.id, "reason", reason, "job", e.body});
  p_.queue.ack(e.id);
  dead_.add();
  p_.log.line("warn", "dead-lettered " + e.id + ": " + reason);
}

void job_runs::start(const pt::job_entry& e) {
  if (!e.valid) return dead_letter(e, e.why);
  pp::job_spec spec;
  try {
    spec = pp::parse_job_spec(e.body);
  } catch (const input_error& bad) {
    return dead_letter(e, bad.what());
  }
  const std::string job_id = spec.id.empty() ? e.id : spec.id;
  if (jobs_.contains(job_id)) return; // already running here
  // A second entry for a finished job (a producer that submitted twice) must not reopen it.
  if (const auto st = p_.ledger.status(job_id); st && pt::is_terminal(*st)) {
    p_.queue.ack(e.id);
    p_.log.line("warn", "entry " + e.id + " names job " + job_id + ", already " +
                            pt::job_status_name(*st));
    return;
  }
  // Every Redis read and write of a start before any actor exists: a Redis that fails here
  // leaves nothing half started, and the entry is started again at the next flush().
  p_.ledger.begin(job_id, e.id, e.body, p_.consumer);
  const ledger_contents recorded = p_.ledger.load(job_id);
  const bool cancel_asked = p_.ledger.cancel_requested(job_id);
  const auto sink = caf::actor_cast<coordinator_sink>(self_.ptr());
  run& r = jobs_[job_id];
  r.entry = e.id;
  r.actor = self_->spawn(job_actor_impl, job_id, spec, sink, waker_);
  self_->monitor(r.actor); // an actor that dies unasked must not leave its job hanging
  // Resume: replay what is recorded; the problems send what is still open at `replayed`.
  for (const pt::task_result_msg& result : recorded.results) {
    if (pp::job_of(result.task_id) == job_id) self_->send(r.actor, result_atom::value, result);
  }
  for (const problem_fact& fact : recorded.facts) self_->send(r.actor, fact_atom::value, fact);
  self_->send(r.actor, replayed_atom::value);
  p_.log.line("info", "job " + job_id + ": " + std::to_string(recorded.results.size()) +
                          " results replayed");
  outbox_.push_back(job_event{
      .job = job_id,
      .json = nlohmann::json{{"type", "started"}, {"replayed", recorded.results.size()}}.dump()});
  if (cancel_asked) cancel(job_id); // cancelled while it waited in the queue
}

void job_runs::deliver(const pt::task_result_msg& result) {
  const std::string job_id(pp::job_of(result.task_id));
  const run* r = running(job_id);
  if (r == nullptr || r->ending) return;
  // The fact first: in Redis before any actor acts on it. A duplicate (the task ran twice) goes
  // to the actor too, which ignores a task it has resolved; but only a first one is counted.
  if (is_recorded(result.status) && p_.ledger.record(job_id, result)) results_.add();
  self_->send(r->actor, result_atom::value, result);
}

void job_runs::take_mailbox() {
  for (bool more = true; more;) {
    self_->receive(
        [&](tasks_atom, std::vector<pt::task_msg>& tasks) {
          outbox_.emplace_back(std::move(tasks));
        },
        [&](withdraw_atom, std::vector<std::string>& ids) { outbox_.emplace_back(std::move(ids)); },
        [&](fact_atom, problem_fact& f) { outbox_.emplace_back(std::move(f)); },
        [&](event_atom, job_event& e) { outbox_.emplace_back(std::move(e)); },
        [&](pool_atom, pooled_proof& p) { outbox_.emplace_back(std::move(p)); },
        [&](job_done_atom, job_outcome& o) { outbox_.emplace_back(std::move(o)); },
        [&](caf::down_msg& down) {
          // Asked to go (finished, cancelled) it is no longer here. Otherwise it failed: forget
          // the job without acknowledging it, so it is reclaimed and resumed from its ledger.
          std::erase_if(jobs_, [&](const auto& job) {
            if (job.second.actor.address() != down.source) return false;
            p_.log.line("error", "job " + job.first + ": its actor failed (" +
                                     caf::to_string(down.reason) + "); left for reclaim");
            return true;
          });
        },
        caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
  }
}

void job_runs::carry_out(action& a, job_work& out) {
  // Work of a job that ended meanwhile (cancelled, finished, failed) is dropped.
  auto live = [&](const std::string& job) {
    const run* r = running(job);
    return r != nullptr && !r->ending;
  };
  if (auto* tasks = std::get_if<std::vector<pt::task_msg>>(&a)) {
    for (pt::task_msg& t : *tasks) {
      if (live(t.job_id)) out.send.push_back(std::move(t));
    }
  } else if (auto* ids = std::get_if<std::vector<std::string>>(&a)) {
    out.withdraw.insert(out.withdraw.end(), ids->begin(), ids->end());
  } else if (auto* f = std::get_if<problem_fact>(&a)) {
    if (live(f->job)) p_.ledger.record(*f);
  } else if (auto* e = std::get_if<job_event>(&a)) {
    if (live(e->job)) p_.ledger.event(*e);
  } else if (auto* p = std::get_if<pooled_proof>(&a)) {
    if (live(p->job)) p_.ledger.pool(*p);
  } else {
    finish(std::get<job_outcome>(a));
  }
}

void job_runs::finish(const job_outcome& o) {
  auto it = jobs_.find(o.job);
  if (it == jobs_.end()) return; // ended already (a cancel and the end crossed)
  const char* status = pt::job_status_name(o.status);
  p_.ledger.complete(o.job, o.result_json, o.status);
  p_.ledger.event({.job = o.job, .id = status,
                   .json = nlohmann::json{{"type", status}}.dump()});
  p_.queue.ack(it->second.entry); // only after the result is stored
  p_.ledger.cancel_done(o.job);   // a cancel that came too late has nothing left to do
  // Not exit_reason::normal: an actor ignores a normal exit message. Its linked problem actors
  // go with it.
  self_->send_exit(it->second.actor, caf::exit_reason::user_shutdown);
  (o.status == pt::job_status::job_status_cancelled ? cancelled_ : completed_).add();
  p_.log.line("info", "job " + o.job + " " + status);
  jobs_.erase(it);
}

std::vector<std::string> job_runs::cancel(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.ending) return {};
  // What was recorded so far becomes the result.
  job_outcome o{.job = job_id, .status = pt::job_status::job_status_cancelled,
                .result_json = job_result_json(job_id, pt::job_status::job_status_cancelled, {})};
  self_->request(it->second.actor, std::chrono::seconds(30), summary_atom::value,
                 pt::job_status::job_status_cancelled)
      .receive([&](job_outcome& answer) { o = std::move(answer); }, [&](caf::error&) {});
  it->second.ending = true;
  std::vector<std::string> open = o.open_tasks;
  outbox_.emplace_back(std::move(o));
  return open;
}

std::vector<std::string> job_runs::entries() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : jobs_) out.push_back(r.entry);
  return out;
}

std::vector<std::string> job_runs::running_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : jobs_) {
    if (!r.ending) out.push_back(id);
  }
  return out;
}

} // namespace proofmesh::coordinator
