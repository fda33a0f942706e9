#include "services/coordinator/job_runs.hpp"

#include "actors/common/error.hpp"
#include "actors/pipeline/job_spec.hpp"
#include "actors/transport/wire_codec.hpp"
#include "services/coordinator/job_actor.hpp"
#include "actors/transport/redis_keys.hpp"

#include <nlohmann/json.hpp>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;

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

// Job id and problem id of a task id "job/problem/...".
std::pair<std::string, std::string> owner_of(const std::string& task_id) {
  const size_t a = task_id.find('/');
  const size_t b = a == std::string::npos ? a : task_id.find('/', a + 1);
  if (b == std::string::npos) return {};
  return {task_id.substr(0, a), task_id.substr(a + 1, b - a - 1)};
}

std::string bytes_of(const pt::wire_message& m) {
  std::vector<uint8_t> b = pt::encode(m);
  return {b.begin(), b.end()};
}

} // namespace

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

void job_runs::start(const pt::job_entry& e) {
  if (!e.valid) {
    p_.redis.command({"XADD", keys::jobs_dead, "*", "entry", e.id, "reason", e.why});
    p_.queue.ack(e.id);
    dead_.add();
    return;
  }
  pp::job_spec spec;
  try {
    spec = pp::parse_job_spec(e.body);
  } catch (const input_error& bad) {
    p_.redis.command({"XADD", keys::jobs_dead, "*", "entry", e.id, "reason", bad.what(), "job",
                      e.body});
    p_.queue.ack(e.id);
    dead_.add();
    p_.log.line("warn", "dead-lettered " + e.id + ": " + bad.what());
    return;
  }
  const std::string job_id = spec.id.empty() ? e.id : spec.id;
  if (jobs_.contains(job_id)) return; // already running here
  // A second entry for a finished job (a producer that submitted twice) must not reopen it.
  if (const std::string st = p_.ledger.status(job_id); st == "completed" || st == "cancelled") {
    p_.queue.ack(e.id);
    p_.log.line("warn", "entry " + e.id + " names job " + job_id + ", already " + st);
    return;
  }
  p_.ledger.begin(job_id, e.id, e.body, p_.consumer);
  const auto sink = caf::actor_cast<coordinator_sink>(self_.ptr());
  run& r = jobs_[job_id];
  r.entry = e.id;
  // Until each problem reports, its open tasks are its proofs: progress totals start whole.
  for (const pp::job_problem& p : spec.problems) {
    r.open_by_problem[p.problem_id] = spec.params.num_proofs;
  }
  r.actor = self_->spawn(job_actor_impl, job_id, spec, sink, waker_);
  self_->monitor(r.actor); // an actor that dies unasked must not leave its job hanging
  // Resume: replay what is recorded; the problems send what is still open at `replayed`.
  int64_t undecodable = 0;
  std::vector<pt::task_result_msg> recorded = p_.ledger.load(job_id, &undecodable);
  for (const pt::task_result_msg& result : recorded) {
    auto [owner, problem] = owner_of(result.task_id);
    if (owner != job_id) continue;
    self_->send(r.actor, result_atom::value, problem, bytes_of(result));
    ++r.reported; // replayed results count as done from the first event on
  }
  self_->send(r.actor, replayed_atom::value);
  p_.log.line("info", "job " + job_id + ": " + std::to_string(recorded.size()) +
                          " results replayed");
  p_.ledger.event(job_id,
                  nlohmann::json{{"type", "started"}, {"replayed", recorded.size()}}.dump());
  if (p_.ledger.cancel_requested(job_id)) { // cancelled while it waited in the queue
    cancel(job_id);
  }
}

bool job_runs::owns(const std::string& task_id) const {
  return jobs_.contains(owner_of(task_id).first);
}

void job_runs::record(const pt::task_result_msg& received) {
  pt::task_result_msg result = received;
  // A dead letter is the coordinator's own verdict: from a worker it is only a failure.
  if (result.status == pt::task_status::task_status_given_up) {
    result.status = pt::task_status::task_status_failed;
  }
  auto [job_id, problem] = owner_of(result.task_id);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  run& r = it->second;
  // The fact first: in Redis before any actor acts on it. A duplicate is no new fact.
  if (result.status != pt::task_status::task_status_failed &&
      result.status != pt::task_status::task_status_handed_back) {
    if (!p_.ledger.record(job_id, result)) return;
    results_.add();
    r.open.erase(result.task_id);
  }
  r.pending[problem].push_back(
      {result.task_id, result.status, result.elapsed_ms, result.error});
  self_->send(r.actor, result_atom::value, problem, bytes_of(result));
}

std::vector<pt::task_msg> job_runs::drain() {
  waker_->clear(); // before reading: a notify after this point wakes the next poll
  std::vector<pt::task_msg> out;
  for (bool more = true; more;) {
    self_->receive(
        [&](tasks_atom, const std::vector<std::string>& tasks) {
          for (const std::string& bytes : tasks) {
            pt::decode_result d = pt::decode(
                std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
            if (!d.message || !std::holds_alternative<pt::task_msg>(*d.message)) continue;
            pt::task_msg& t = std::get<pt::task_msg>(*d.message);
            auto it = jobs_.find(t.job_id);
            if (it == jobs_.end()) continue; // its job ended meanwhile
            it->second.open.insert(t.task_id);
            out.push_back(std::move(t));
          }
        },
        [&](resolved_atom, const std::string& job_id, const std::string& problem, int64_t open) {
          auto it = jobs_.find(job_id);
          if (it == jobs_.end()) return;
          run& r = it->second;
          r.open_by_problem[problem] = open;
          auto& queue = r.pending[problem];
          if (queue.empty()) return;
          const pending_event ev = std::move(queue.front());
          // Events go out in the order the problems answer, which is not the order results
          // were recorded across problems: count here, so `done` only rises.
          if (ev.status != pt::task_status::task_status_failed &&
              ev.status != pt::task_status::task_status_handed_back) {
            ++r.reported;
          }
          queue.pop_front();
          int64_t total_open = 0;
          for (const auto& [pid, n] : r.open_by_problem) total_open += n;
          nlohmann::json event = {{"type", "result"},   {"task", ev.task},
                                  {"status", status_name(ev.status)},
                                  {"done", r.reported},  {"open", total_open},
                                  {"elapsed_ms", ev.elapsed_ms}}; // the worker's engine time
          if (!ev.error.empty()) event["error"] = ev.error; // why it failed
          p_.ledger.event(job_id, event.dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace));
        },
        [&](withdraw_atom, const std::vector<std::string>& tasks) {
          for (const std::string& t : tasks) {
            auto it = jobs_.find(owner_of(t).first);
            if (it != jobs_.end()) it->second.open.erase(t);
            withdrawn_.push_back(t);
          }
        },
        [&](fact_atom, const std::string& job_id, const std::string& bytes) {
          // A decision of a search (a dead letter, an early stop) kept with the results, so a
          // resumed search makes the same one.
          pt::decode_result d = pt::decode(
              std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
          if (!jobs_.contains(job_id) || !d.message ||
              !std::holds_alternative<pt::task_result_msg>(*d.message)) {
            return;
          }
          p_.ledger.record(job_id, std::get<pt::task_result_msg>(*d.message));
        },
        [&](event_atom, const std::string& job_id, const std::string& json) {
          if (jobs_.contains(job_id)) p_.ledger.event(job_id, json);
        },
        [&](pool_atom, const std::string& job_id, const std::string& problem, int32_t index,
            const std::string& proof, double mean) {
          if (jobs_.contains(job_id)) p_.ledger.pool(job_id, problem, index, proof, mean);
        },
        [&](job_done_atom, const std::string& job_id, const std::string& result_json) {
          finish(job_id, result_json);
        },
        [&](caf::down_msg& down) {
          // Asked to go (finished, cancelled) it is no longer here. Otherwise it failed: forget
          // the job without acknowledging it, so it is reclaimed and resumed from its ledger.
          for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
            if (it->second.actor.address() != down.source) continue;
            p_.log.line("error", "job " + it->first + ": its actor failed (" +
                                     caf::to_string(down.reason) + "); left for reclaim");
            jobs_.erase(it);
            break;
          }
        },
        caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
  }
  return out;
}

void job_runs::finish(const std::string& job_id, const std::string& result_json) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  p_.ledger.complete(job_id, result_json);
  p_.ledger.event(job_id, R"({"type": "completed"})");
  p_.queue.ack(it->second.entry);  // only after the result is stored
  p_.ledger.cancel_done(job_id);   // a cancel that came too late has nothing left to do
  // Not exit_reason::normal: an actor ignores a normal exit message. Its linked problem actors
  // go with it.
  self_->send_exit(it->second.actor, caf::exit_reason::user_shutdown);
  completed_.add();
  p_.log.line("info", "job " + job_id + " completed");
  jobs_.erase(it);
}

std::vector<std::string> job_runs::cancel(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return {};
  // What was recorded so far becomes the result.
  std::string result;
  self_->request(it->second.actor, std::chrono::seconds(30), summary_atom::value,
                 std::string("cancelled"))
      .receive([&](const std::string& json) { result = json; },
               [&](caf::error&) {
                 result = nlohmann::json{{"id", job_id}, {"status", "cancelled"},
                                         {"problems", nlohmann::json::array()}}
                              .dump();
               });
  std::vector<std::string> open(it->second.open.begin(), it->second.open.end());
  p_.ledger.complete(job_id, result, "cancelled");
  p_.ledger.event(job_id, R"({"type": "cancelled"})");
  p_.queue.ack(it->second.entry);
  p_.ledger.cancel_done(job_id);
  self_->send_exit(it->second.actor, caf::exit_reason::user_shutdown);
  cancelled_.add();
  p_.log.line("info", "job " + job_id + " cancelled");
  jobs_.erase(it);
  return open;
}

std::vector<std::string> job_runs::take_withdrawn() {
  std::vector<std::string> out;
  out.swap(withdrawn_);
  return out;
}

std::vector<std::string> job_runs::entries() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : jobs_) out.push_back(r.entry);
  return out;
}

std::vector<std::string> job_runs::running_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : jobs_) out.push_back(id);
  return out;
}

} // namespace proofmesh::coordinator
