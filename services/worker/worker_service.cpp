#include "services/worker/worker_service.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/chat/chat_format.hpp"
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/serving/engine_actor.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "actors/roles/role_result.hpp"
#include "actors/roles/role_templates.hpp"
#include "actors/transport/worker_link.hpp"
#include "services/worker/worker_frame.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <cstdio>
#include <map>

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
  // A raw completion streams its text to the coordinator: what is not sent yet, from where.
  std::string unsent;
  uint32_t sent_bytes = 0;
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

} // namespace

int run_worker(const worker_config& c, const std::atomic<bool>& stop_flag) {
  const roles::role_templates templates = load_templates(c);
  const pe::tokenizer tok = pe::tokenizer::from_file(c.model + "/tokenizer.json");
  const pe::model_config config = pe::load_model_config(c.model);
  const pe::chat_format format = pe::detect_chat_format(c.model, tok);
  std::vector<int32_t> stop_ids;
  for (int64_t id : config.eos_token_ids) {
    stop_ids.push_back(static_cast<int32_t>(id));
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{pe::add_engine_types(cfg)};
  // The engine runs at most the worker's slots at once, whatever --max-running allows.
  pe::scheduler_config plan = pe::scheduler_config_for(c.engine);
  plan.max_running = std::min(plan.max_running, c.slots);
  pe::engine_actor engine = pe::spawn_engine(
      sys, {.make_runner = runner_for(c, config), .tok = &tok, .scheduler = plan,
            .max_requests = c.slots});
  caf::scoped_actor self{sys};
  const auto listener = caf::actor_cast<pe::engine_listener>(self.ptr());

  worker_frame frame(c, "");
  const services::service_log& log = frame.log();

  std::map<pe::request_id, in_flight_task> running;
  std::map<std::string, pe::request_id> by_task;
  bool draining = false;
  clock_type::time_point drain_deadline;

  auto finish = [&](pe::request_id id, const pt::task_result_msg& result) {
    auto it = running.find(id);
    if (it == running.end()) {
      return;
    }
    const size_t link = it->second.link;
    by_task.erase(it->second.task.task_id);
    running.erase(it);
    frame.report(link, result);
  };

  while (true) {
    if (!draining && stop_flag.load()) {
      draining = true;
      frame.start_draining();
      drain_deadline = clock_type::now() + c.drain;
      log.line("info", "SIGTERM: draining " + std::to_string(running.size()) + " tasks");
    }
    if (draining && (running.empty() || clock_type::now() >= drain_deadline)) {
      break;
    }
    frame_inbox inbox = frame.poll(std::chrono::milliseconds(2));
    for (const std::string& task_id : inbox.cancels) {
      if (auto it = by_task.find(task_id); it != by_task.end()) {
        caf::anon_send(engine, pe::cancel_atom_v, it->second);
      }
    }
    for (role_task& arrived : inbox.tasks) {
      const size_t link = arrived.link;
      pt::task_msg& task = arrived.task;
      if (draining) {
        frame.refuse(link, task, "the worker is shutting down",
                     pt::task_status::task_status_handed_back);
        continue;
      }
      if (by_task.contains(task.task_id)) {
        frame.release(link); // a duplicate delivery; the first one's result answers it
        continue;
      }
      std::vector<int32_t> prompt = prompt_of(task, templates, tok, format);
      std::vector<std::string> stop_strings;
      int32_t max_tokens = std::min(task.sampling.max_tokens, c.max_tokens);
      if (const auto* in = std::get_if<pt::complete_input>(&task.input)) {
        stop_strings = in->stop;
      }
      // max_tokens bounds the answer within the context (the search asks the reference's 128K
      // whatever the model holds): what the prompt leaves is the most it can be. An answer cut
      // there ends as `length`, which the search counts as truncated.
      const int64_t room = config.max_position_embeddings - static_cast<int64_t>(prompt.size());
      if (room < 1) { // no room to answer in: the request's fault, not the worker's
        frame.refuse(link, task,
                     "invalid_request: the prompt has " + std::to_string(prompt.size()) +
                         " tokens; the model's context is " +
                         std::to_string(config.max_position_embeddings));
        continue;
      }
      max_tokens = static_cast<int32_t>(std::min<int64_t>(room, max_tokens));
      pe::engine_request request{
          .prompt = std::move(prompt),
          .max_tokens = max_tokens,
          .sampling = {.temperature = task.sampling.temperature, .top_p = task.sampling.top_p,
                       .top_k = task.sampling.top_k, .seed = task.sampling.seed},
          .stop_strings = std::move(stop_strings),
          .stop_ids = stop_ids,
          .stream = task.sampling.stream};
      const auto prompt_tokens = static_cast<uint32_t>(request.prompt.size());
      self->request(engine, std::chrono::seconds(30), pe::submit_atom_v, std::move(request),
                    listener)
          .receive(
              [&](pe::request_id id) {
                by_task[task.task_id] = id;
                running[id] = {.link = link, .task = std::move(task),
                               .prompt_tokens = prompt_tokens, .started = clock_type::now()};
              },
              [&](caf::error& err) {
                // Full is no fault of the task's: handed back, no attempt spent.
                const bool full = err == pe::engine_errc::engine_errc_overloaded;
                frame.refuse(link, task, "the engine refused the task: " + sys.render(err),
                             full ? pt::task_status::task_status_handed_back
                                  : pt::task_status::task_status_failed);
              });
    }
    // Drain what the engine said since the last turn, without waiting.
    for (bool more = true; more;) {
      self->receive(
          [&](pe::event_atom, pe::engine_event& e) {
            auto it = running.find(e.id);
            if (it == running.end()) {
              return;
            }
            if (!e.finished) {
              if (std::holds_alternative<pt::complete_input>(it->second.task.input)) {
                it->second.unsent += e.text;
                ++it->second.tokens;
              }
              return;
            }
            const auto elapsed = static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() -
                                                                      it->second.started)
                    .count());
            if (e.cancelled) {
              finish(e.id, {.task_id = it->second.task.task_id,
                            .status = pt::task_status::task_status_failed,
                            .error = "cancelled"});
              return;
            }
            finish(e.id, roles::make_result(it->second.task, *e.finished,
                                            it->second.prompt_tokens, elapsed));
          },
          [&](pe::failed_atom, pe::request_id id, caf::error& err) {
            auto it = running.find(id);
            if (it != running.end()) {
              finish(id, {.task_id = it->second.task.task_id,
                          .status = pt::task_status::task_status_failed,
                          .error = "the engine failed: " + sys.render(err)});
            }
          },
          caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
    }
    // Streamed text goes out at most every 20 ms per task: fewer, larger messages; the final
    // result carries the whole text, so nothing held back here is lost.
    const auto now = clock_type::now();
    for (auto& [id, r] : running) {
      if (!r.unsent.empty() && now - r.last_sent >= std::chrono::milliseconds(20)) {
        frame.send_progress(r.link, {.task_id = r.task.task_id, .completion_tokens = r.tokens,
                                     .text_delta = r.unsent, .text_offset = r.sent_bytes});
        r.sent_bytes += static_cast<uint32_t>(r.unsent.size());
        r.unsent.clear();
        r.last_sent = now;
      }
    }
  }
  if (!running.empty()) {
    log.line("warn", "drain time over: " + std::to_string(running.size()) +
                            " tasks handed back");
    for (auto& [id, t] : running) {
      frame.refuse(t.link, t.task, "the worker shut down before the task finished",
                   pt::task_status::task_status_handed_back);
    }
  }
  caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
  log.line("info", "stopped");
  return 0;
}

} // namespace proofmesh::worker
