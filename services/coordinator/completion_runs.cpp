#include "services/coordinator/completion_runs.hpp"

#include "actors/common/error.hpp"
#include "actors/transport/api_code.hpp"
#include "actors/transport/redis_keys.hpp"

#include <nlohmann/json.hpp>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::coordinator {

using enum transport::api_code;

namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;
using nlohmann::json;

namespace {

constexpr uint32_t max_attempts = 3;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json error_event(pt::api_code code, const std::string& message) {
  return {{"type", "error"}, {"code", pt::api_code_name(code)}, {"message", message}};
}

// What a delta from `offset` adds past the `emitted` already passed on (bytes of text, or token
// logprobs): empty when all of it was seen, or when it starts past a gap.
template <class Sequence>
Sequence fresh_part(uint32_t& emitted, const Sequence& delta, uint32_t offset) {
  const size_t end = static_cast<size_t>(offset) + delta.size();
  if (end <= emitted || offset > emitted) return {};
  Sequence fresh(delta.begin() + (emitted - offset), delta.end());
  emitted = static_cast<uint32_t>(end);
  return fresh;
}

// A token in OpenAI's chat shape: its text, its bytes (a token may end inside a character, which
// the text shows as U+FFFD), its logprob.
json token_json(const std::string& token, float logprob) {
  return {{"token", token},
          {"logprob", logprob},
          {"bytes", std::vector<uint8_t>(token.begin(), token.end())}};
}

json logprobs_json(const std::vector<pt::token_logprob>& tokens) {
  json out = json::array();
  for (const pt::token_logprob& t : tokens) {
    json entry = token_json(t.token, t.logprob);
    json top = json::array();
    for (const pt::top_logprob& a : t.top) top.push_back(token_json(a.token, a.logprob));
    entry["top_logprobs"] = std::move(top);
    out.push_back(std::move(entry));
  }
  return out;
}

json delta_event(size_t index, const std::string& text,
                 const std::vector<pt::token_logprob>& logprobs) {
  json ev = {{"type", "delta"}, {"index", index}, {"text", text}};
  if (!logprobs.empty()) ev["logprobs"] = logprobs_json(logprobs);
  return ev;
}

} // namespace

void completion_runs::event(const std::string& id, const std::string& text, bool last,
                            std::string ack) {
  pending_.push_back({.id = id, .json = text, .last = last, .ack = std::move(ack)});
}

void completion_runs::flush() {
  for (; !pending_.empty(); pending_.pop_front()) {
    const pending_event& e = pending_.front();
    const std::string key = keys::completion_events(e.id);
    // One at a time and in order: the client's text must not come out of order.
    pt::redis_reply r =
        redis_.command({"XADD", key, "MAXLEN", "~", "100000", "*", "event", e.json});
    if (r.is_error()) throw pt::redis_unavailable("XADD " + key + ": " + r.str);
    if (e.last) redis_.command({"EXPIRE", key, "3600"}); // read by then, or never
    if (!e.ack.empty()) queue_.ack(e.ack); // only once the answer is written
  }
}

void completion_runs::end(const std::string& id, const std::string& text) {
  auto it = runs_.find(id);
  event(id, text, /*last=*/true, it != runs_.end() ? it->second.entry : std::string());
  if (it != runs_.end()) runs_.erase(it);
}

std::vector<pt::task_msg> completion_runs::start(const pt::job_entry& e,
                                                 const std::array<size_t, 3>& workers_per_pool) {
  pp::completion_request request;
  try {
    if (!e.valid) throw input_error(e.why);
    request = pp::from_queue_json(e.body);
  } catch (const input_error& bad) {
    // Without a valid id there is no stream to answer on: the entry goes to a dead letter.
    redis_.command({"XADD", keys::completions_dead, "MAXLEN", "~", "10000", "*", "entry", e.id,
                    "reason", bad.what()});
    queue_.ack(e.id);
    return {};
  }
  const std::string id = request.id;
  if (runs_.contains(id)) return {};
  run& r = runs_[id];
  r.request = std::move(request);
  r.entry = e.id;
  r.choices.resize(static_cast<size_t>(r.request.n));
  if (workers_per_pool[static_cast<size_t>(r.request.pool)] == 0) {
    end(id, dump(error_event(api_code_no_workers, "no worker serves " + r.request.model + " now")));
    return {};
  }
  r.tasks = pp::completion_tasks(r.request);
  return r.tasks;
}

void completion_runs::abandon(const pt::job_entry& e) {
  pp::completion_request request;
  try {
    request = pp::from_queue_json(e.body);
  } catch (const input_error&) {
    queue_.ack(e.id);
    return;
  }
  if (runs_.contains(request.id)) return; // ours, and running: merely long
  event(request.id,
        dump(error_event(api_code_coordinator_lost,
                         "the coordinator serving this request stopped; send it again")),
        /*last=*/true, e.id);
}

std::optional<std::pair<std::string, size_t>> completion_runs::owner(
    const std::string& task_id) const {
  const size_t slash = task_id.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  auto it = runs_.find(task_id.substr(0, slash));
  if (it == runs_.end()) return std::nullopt;
  size_t index = 0;
  try {
    index = std::stoul(task_id.substr(slash + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (index >= it->second.choices.size()) return std::nullopt;
  return std::make_pair(it->first, index);
}

bool completion_runs::owns(const std::string& task_id) const { return owner(task_id).has_value(); }

void completion_runs::on_progress(const pt::progress_msg& p) {
  auto who = owner(p.task_id);
  if (!who) return;
  choice& c = runs_.at(who->first).choices[who->second];
  if (c.done) return;
  const std::string text = fresh_part(c.emitted, p.text_delta, p.text_offset);
  const auto logprobs = fresh_part(c.logprobs_emitted, p.logprobs, p.logprobs_offset);
  if (text.empty() && logprobs.empty()) return; // seen, or past a gap the result will fill
  event(who->first, dump(delta_event(who->second, text, logprobs)));
}

completion_runs::step completion_runs::on_result(const pt::task_result_msg& result) {
  auto who = owner(result.task_id);
  if (!who) return {};
  run& r = runs_.at(who->first);
  choice& c = r.choices[who->second];
  if (c.done) return {};
  const auto* out = std::get_if<pt::complete_output>(&result.output);
  if (result.status != pt::task_status::task_status_ok || out == nullptr) {
    return on_failure(*who, result);
  }
  if (out->logprobs_offset > c.logprobs_emitted) {
    // A progress message with logprobs was lost (the text is whole in the result, its logprobs
    // are not): run the choice again; its deltas skip what the client already has.
    return again_or_fail(*who, "the completion's logprobs were lost in transit");
  }
  // The tail the last progress did not carry.
  const std::string text = out->text.size() > c.emitted ? out->text.substr(c.emitted) : "";
  const auto logprobs = fresh_part(c.logprobs_emitted, out->logprobs, out->logprobs_offset);
  if (!text.empty() || !logprobs.empty()) {
    event(who->first, dump(delta_event(who->second, text, logprobs)));
  }
  c.emitted = static_cast<uint32_t>(out->text.size());
  c.done = true;
  r.prompt_tokens += result.prompt_tokens;
  r.completion_tokens += result.completion_tokens;
  event(who->first, dump({{"type", "choice"}, {"index", who->second},
                          {"finish_reason", out->finish_reason}}));
  if (++r.finished == r.request.n) {
    // Choices share the prompt: OpenAI counts its tokens once.
    const int64_t prompt = r.prompt_tokens / r.request.n;
    end(who->first, dump({{"type", "completed"},
                          {"usage", {{"prompt_tokens", prompt},
                                     {"completion_tokens", r.completion_tokens},
                                     {"total_tokens", prompt + r.completion_tokens}}}}));
  }
  return {};
}

completion_runs::step completion_runs::on_failure(const choice_id& who,
                                                  const pt::task_result_msg& result) {
  choice& c = runs_.at(who.first).choices[who.second];
  // A request no worker can serve (a prompt past the model's context) is the client's
  // mistake: no retry, a 400.
  if (result.error.rfind("invalid_request: ", 0) == 0) {
    step gone{.withdraw = open_tasks(who.first)};
    end(who.first, dump(error_event(api_code_invalid_request, result.error.substr(17))));
    return gone;
  }
  if (result.status == pt::task_status::task_status_handed_back && c.handed_back < 16) {
    ++c.handed_back; // not run at all: again, as jobs do, without spending an attempt
    return {.rerun = runs_.at(who.first).tasks[who.second]};
  }
  return again_or_fail(who, result.error.empty() ? "the completion failed" : result.error);
}

completion_runs::step completion_runs::again_or_fail(const choice_id& who, const std::string& why) {
  run& r = runs_.at(who.first);
  choice& c = r.choices[who.second];
  if (c.attempts < max_attempts) {
    ++c.attempts;
    pt::task_msg again = r.tasks[who.second];
    again.attempt = c.attempts - 1;
    return {.rerun = std::move(again)};
  }
  step gone{.withdraw = open_tasks(who.first)};
  end(who.first, dump(error_event(api_code_completion_failed, why)));
  return gone;
}

std::vector<std::string> completion_runs::open_tasks(const std::string& id) const {
  std::vector<std::string> open;
  const run& r = runs_.at(id);
  for (size_t i = 0; i < r.choices.size(); ++i) {
    if (!r.choices[i].done) open.push_back(r.tasks[i].task_id);
  }
  return open;
}

std::vector<std::string> completion_runs::entries() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : runs_) out.push_back(r.entry);
  return out;
}

std::vector<std::string> completion_runs::running_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : runs_) out.push_back(id);
  return out;
}

std::vector<std::string> completion_runs::cancel(const std::string& id) {
  if (!runs_.contains(id)) return {};
  std::vector<std::string> open = open_tasks(id);
  end(id, dump({{"type", "cancelled"}}));
  return open;
}

} // namespace proofmesh::coordinator
