#include "services/worker/worker_service.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/chat/chat_format.hpp"
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/serving/engine_actor.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "actors/roles/role_result.hpp"
#include "actors/roles/role_templates.hpp"
#include "actors/roles/token_logprobs.hpp"
#include "actors/transport/worker_link.hpp"
#include "services/worker/worker_frame.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <cstdio>
#include <map>
#include <optional>

namespace proofmesh::worker {

namespace {

namespace pe = proofmesh::engine;
namespace pt = proofmesh::transport;
using clock_type = std::chrono::steady_clock;

struct in_flight_task {
  size_t link = 0; // the role link it came on
  pt::task_msg task;
  uint32_t prompt_tokens = 0;
  clock_type::time_point started;
  // A raw completion streams its text (and its token logprobs, when asked for) to the
  // coordinator: what is not sent yet, from where.
  std::string unsent;
  uint32_t sent_bytes = 0;
  std::vector<pt::token_logprob> unsent_logprobs;
  uint32_t sent_logprobs = 0;
  uint32_t tokens = 0;
  clock_type::time_point last_sent;
};

// The prompt of a task: a role's template rendered as the user's turn, or a raw completion's
// own chat (the model's chat format) or plain text (with the tokenizer's special tokens, as
// OpenAI-compatible servers do for prompts).
std::vector<int32_t> prompt_of(const pt::task_msg& task, const roles::role_templates& templates,
                               const pe::tokenizer& tok, pe::chat_format format) {
  if (const auto* c = std::get_if<pt::complete_input>(&task.input)) {
    if (c->messages.empty()) return tok.encode(c->prompt, true);
    std::vector<pe::chat_message> chat;
    for (const pt::chat_turn& m : c->messages) chat.push_back({m.role, m.content});
    return tok.encode(pe::render_chat(format, chat), false);
  }
  // The roles' prompts are for a reasoning model: thinking on where the format has the switch.
  return tok.encode(pe::render_chat(format, {{"user", templates.render(task.input)}}, true), false);
}

pe::runner_factory runner_for(const worker_config& c, const pe::model_config& config) {
  return [c, config] { return pe::make_runner(c.engine, config, pe::weight_store::open(c.model)); };
}

// The engine runs at most the worker's slots at once, whatever --max-running allows.
pe::engine_actor spawn_engine_for(const worker_config& c, const pe::model_config& config,
                                  const pe::tokenizer& tok, caf::actor_system& system) {
  pe::scheduler_config plan = pe::scheduler_config_for(c.engine);
  plan.max_running = std::min(plan.max_running, c.slots);
  return pe::spawn_engine(system, {.make_runner = runner_for(c, config), .tok = &tok,
                                   .scheduler = plan, .max_requests = c.slots});
}

// The role service over our engine, as a loop of three steps (worker_service.hpp says what each
// turn does): admit, collect what the engine said, stream progress.
class engine_worker {
public:
  engine_worker(const worker_config& c, const std::atomic<bool>& stop_flag)
      : c_(c), stop_flag_(stop_flag), templates_(load_templates(c)),
        tok_(pe::tokenizer::from_file(c.model + "/tokenizer.json")),
        config_(pe::load_model_config(c.model)), format_(pe::detect_chat_format(c.model, tok_)),
        system_(pe::add_engine_types(caf_config_)), self_(system_),
        engine_(spawn_engine_for(c, config_, tok_, system_)),
        listener_(caf::actor_cast<pe::engine_listener>(self_.ptr())),
        frame_(c, "") { // the links (and their credit) once the engine is there
    for (int64_t id : config_.eos_token_ids) stop_ids_.push_back(static_cast<int32_t>(id));
  }

  int run() {
    while (!done()) {
      admit();
      collect_engine();
      stream_progress();
    }
    hand_back_the_rest();
    caf::anon_send_exit(engine_, caf::exit_reason::user_shutdown);
    frame_.log().line("info", "stopped");
    return 0;
  }

private:
  using submit_handle = decltype(std::declval<caf::blocking_actor&>().request(
      std::declval<pe::engine_actor&>(), std::chrono::seconds(30), pe::submit_atom_v,
      std::declval<pe::engine_request>(), std::declval<pe::engine_listener&>()));
  struct submitted {
    submit_handle handle;
    size_t link;
    pt::task_msg task;
    uint32_t prompt_tokens;
  };

  // SIGTERM starts the drain; the loop ends once nothing runs or the drain time is over.
  bool done() {
    if (!draining_ && stop_flag_.load()) {
      draining_ = true;
      frame_.start_draining();
      drain_deadline_ = clock_type::now() + c_.drain;
      frame_.log().line("info", "SIGTERM: draining " + std::to_string(running_.size()) +
                                    " tasks");
    }
    return draining_ && (running_.empty() || clock_type::now() >= drain_deadline_);
  }

  // Cancels carried out; new tasks checked and submitted together, then their answers taken
  // (one wait on the engine for all of them, not one per task).
  void admit() {
    frame_inbox inbox = frame_.poll(std::chrono::milliseconds(2));
    for (const std::string& task_id : inbox.cancels) {
      if (auto it = by_task_.find(task_id); it != by_task_.end()) {
        caf::anon_send(engine_, pe::cancel_atom_v, it->second);
      }
    }
    std::vector<submitted> sent;
    for (role_task& arrived : inbox.tasks) {
      std::optional<pe::engine_request> request = request_for(arrived);
      if (!request) continue;
      const auto prompt_tokens = static_cast<uint32_t>(request->prompt.size());
      submit_handle h = self_->request(engine_, std::chrono::seconds(30), pe::submit_atom_v,
                                       std::move(*request), listener_);
      sent.push_back({std::move(h), arrived.link, std::move(arrived.task), prompt_tokens});
    }
    for (submitted& s : sent) {
      s.handle.receive(
          [&](pe::request_id id) {
            by_task_[s.task.task_id] = id;
            running_[id] = {.link = s.link, .task = std::move(s.task),
                            .prompt_tokens = s.prompt_tokens, .started = clock_type::now()};
          },
          [&](caf::error& err) {
            // Full is no fault of the task's: handed back, no attempt spent.
            const bool full = err == pe::engine_errc::engine_errc_overloaded;
            frame_.refuse(s.link, s.task, "the engine refused the task: " + system_.render(err),
                          full ? pt::task_status::task_status_handed_back
                               : pt::task_status::task_status_failed);
          });
    }
  }

  // The engine request of an arrived task; null when it is refused here (draining, a duplicate
  // delivery, a prompt the model's context cannot hold).
  std::optional<pe::engine_request> request_for(role_task& arrived) {
    const size_t link = arrived.link;
    pt::task_msg& task = arrived.task;
    if (draining_) {
      frame_.refuse(link, task, "the worker is shutting down",
                    pt::task_status::task_status_handed_back);
      return std::nullopt;
    }
    if (by_task_.contains(task.task_id)) {
      frame_.release(link); // a duplicate delivery; the first one's result answers it
      return std::nullopt;
    }
    std::vector<int32_t> prompt = prompt_of(task, templates_, tok_, format_);
    // max_tokens bounds the answer within the context (the search asks the reference's 128K
    // whatever the model holds): what the prompt leaves is the most it can be. An answer cut
    // there ends as `length`, which the search counts as truncated.
    const int64_t room = config_.max_position_embeddings - static_cast<int64_t>(prompt.size());
    if (room < 1) { // no room to answer in: the request's fault, not the worker's
      frame_.refuse(link, task,
                    "invalid_request: the prompt has " + std::to_string(prompt.size()) +
                        " tokens; the model's context is " +
                        std::to_string(config_.max_position_embeddings));
      return std::nullopt;
    }
    const auto* raw = std::get_if<pt::complete_input>(&task.input);
    return pe::engine_request{
        .prompt = std::move(prompt),
        .max_tokens = static_cast<int32_t>(
            std::min<int64_t>(room, std::min(task.sampling.max_tokens, c_.max_tokens))),
        .sampling = {.temperature = task.sampling.temperature, .top_p = task.sampling.top_p,
                     .top_k = task.sampling.top_k, .seed = task.sampling.seed,
                     .num_logprobs = roles::engine_logprobs_for(
                         raw != nullptr ? task.sampling.logprobs : -1)},
        .stop_strings = raw != nullptr ? raw->stop : std::vector<std::string>{},
        .stop_ids = stop_ids_,
        .stream = task.sampling.stream};
  }

  // What the engine said since the last turn, without waiting: text kept for streaming,
  // finished tasks turned into their typed results.
  void collect_engine() {
    for (bool more = true; more;) {
      self_->receive(
          [&](pe::event_atom, pe::engine_event& e) { on_event(e); },
          [&](pe::failed_atom, pe::request_id id, caf::error& err) {
            if (auto it = running_.find(id); it != running_.end()) {
              finish(id, {.task_id = it->second.task.task_id,
                          .status = pt::task_status::task_status_failed,
                          .error = "the engine failed: " + system_.render(err)});
            }
          },
          caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
    }
  }

  void on_event(const pe::engine_event& e) {
    auto it = running_.find(e.id);
    if (it == running_.end()) return;
    in_flight_task& t = it->second;
    if (e.token >= 0 && t.task.sampling.logprobs >= 0) {
      if (auto lp = roles::token_logprob_of(tok_, e.token, e.logprobs, t.task.sampling.logprobs,
                                            stop_ids_)) {
        t.unsent_logprobs.push_back(std::move(*lp));
      }
    }
    if (!e.finished) {
      if (std::holds_alternative<pt::complete_input>(t.task.input)) {
        t.unsent += e.text;
        ++t.tokens;
      }
      return;
    }
    if (e.cancelled) {
      finish(e.id, {.task_id = t.task.task_id, .status = pt::task_status::task_status_failed,
                    .error = "cancelled"});
      return;
    }
    const auto elapsed = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t.started)
            .count());
    pt::task_result_msg result =
        roles::make_result(t.task, *e.finished, t.prompt_tokens, elapsed);
    // The logprobs progress did not carry.
    if (auto* out = std::get_if<pt::complete_output>(&result.output)) {
      out->logprobs = std::move(t.unsent_logprobs);
      out->logprobs_offset = t.sent_logprobs;
    }
    finish(e.id, result);
  }

  void finish(pe::request_id id, const pt::task_result_msg& result) {
    auto it = running_.find(id);
    if (it == running_.end()) return;
    const size_t link = it->second.link;
    by_task_.erase(it->second.task.task_id);
    running_.erase(it);
    frame_.report(link, result);
  }

  // Streamed text goes out at most every 20 ms per task: fewer, larger messages; the final
  // result carries the whole text, so nothing held back here is lost.
  void stream_progress() {
    const auto now = clock_type::now();
    for (auto& [id, r] : running_) {
      if ((r.unsent.empty() && r.unsent_logprobs.empty()) ||
          now - r.last_sent < std::chrono::milliseconds(20)) {
        continue;
      }
      const auto tokens = static_cast<uint32_t>(r.unsent_logprobs.size());
      frame_.send_progress(r.link, {.task_id = r.task.task_id, .completion_tokens = r.tokens,
                                    .text_delta = r.unsent, .text_offset = r.sent_bytes,
                                    .logprobs = std::move(r.unsent_logprobs),
                                    .logprobs_offset = r.sent_logprobs});
      r.sent_bytes += static_cast<uint32_t>(r.unsent.size());
      r.sent_logprobs += tokens;
      r.unsent_logprobs.clear();
      r.unsent.clear();
      r.last_sent = now;
    }
  }

  void hand_back_the_rest() {
    if (running_.empty()) return;
    frame_.log().line("warn", "drain time over: " + std::to_string(running_.size()) +
                                  " tasks handed back");
    for (auto& [id, t] : running_) {
      frame_.refuse(t.link, t.task, "the worker shut down before the task finished",
                    pt::task_status::task_status_handed_back);
    }
  }

  const worker_config& c_;
  const std::atomic<bool>& stop_flag_;
  const roles::role_templates templates_;
  const pe::tokenizer tok_;
  const pe::model_config config_;
  const pe::chat_format format_;
  std::vector<int32_t> stop_ids_;
  caf::actor_system_config caf_config_;
  caf::actor_system system_;
  caf::scoped_actor self_;
  pe::engine_actor engine_;
  pe::engine_listener listener_;
  worker_frame frame_;
  std::map<pe::request_id, in_flight_task> running_;
  std::map<std::string, pe::request_id> by_task_;
  bool draining_ = false;
  clock_type::time_point drain_deadline_;
};

} // namespace

int run_worker(const worker_config& c, const std::atomic<bool>& stop_flag) {
  return engine_worker(c, stop_flag).run();
}

} // namespace proofmesh::worker
