#include "services/worker/openai_worker.hpp"

#include "actors/common/error.hpp"
#include "actors/roles/openai_exchange.hpp"
#include "actors/roles/role_result.hpp"
#include "actors/roles/role_templates.hpp"
#include "actors/roles/token_logprobs.hpp"
#include "actors/transport/worker_link.hpp"
#include "services/worker/openai_client.hpp"
#include "services/worker/worker_frame.hpp"

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace proofmesh::worker {

namespace {

namespace pt = proofmesh::transport;
using clock_type = std::chrono::steady_clock;

// One request in flight: its task, and the call another thread may cancel.
struct flight {
  pt::task_msg task;
  roles::openai_call call;
  http_call http;
  clock_type::time_point started = clock_type::now();
};

bool worth_retrying(const http_outcome& o) {
  return o.status == 0 || o.status == 408 || o.status == 409 || o.status == 429 ||
         o.status >= 500;
}

// "HTTP 400: <the server's message>" (OpenAI's {error: {message}} when it is one).
std::string describe(const http_outcome& o) {
  if (o.status == 0) return o.failure;
  nlohmann::json j = nlohmann::json::parse(o.body, nullptr, false);
  std::string said = o.body.substr(0, 300);
  if (j.is_object() && j.contains("error")) {
    const nlohmann::json& e = j["error"];
    said = e.is_object() ? e.value("message", said) : e.is_string() ? e.get<std::string>() : said;
  }
  return "HTTP " + std::to_string(o.status) + ": " + said;
}

// The whole life of one request, on its own thread: post, retry, make the typed result.
pt::task_result_msg serve(flight& f, const openai_endpoint& to, int32_t max_retries,
                          const std::atomic<bool>& cancelled) {
  const std::string body = f.call.body.dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
  std::chrono::milliseconds wait(500);
  for (int32_t attempt = 0;; ++attempt) {
    const http_outcome o = f.http.post(to, f.call.path, body);
    const auto elapsed = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - f.started)
            .count());
    if (cancelled || o.failure == "cancelled") {
      return {.task_id = f.task.task_id, .status = pt::task_status::task_status_failed,
              .error = "cancelled", .elapsed_ms = elapsed};
    }
    if (o.status >= 200 && o.status < 300) {
      try {
        roles::openai_answer a = roles::parse_openai_answer(nlohmann::json::parse(o.body));
        pt::task_result_msg r = roles::make_result(f.task, a.text, a.stopped, a.prompt_tokens,
                                                   a.completion_tokens, elapsed);
        if (auto* out = std::get_if<pt::complete_output>(&r.output);
            out != nullptr && f.task.sampling.logprobs >= 0) {
          out->logprobs = roles::within_wire_limits(std::move(a.logprobs),
                                                    f.task.sampling.logprobs);
        }
        return r;
      } catch (const std::exception& e) { // not JSON, or not a completion: the server's fault
        return {.task_id = f.task.task_id, .status = pt::task_status::task_status_failed,
                .error = std::string("the server's answer is not a completion: ") + e.what(),
                .elapsed_ms = elapsed};
      }
    }
    if (!worth_retrying(o) || attempt >= max_retries) {
      return {.task_id = f.task.task_id, .status = pt::task_status::task_status_failed,
              .error = describe(o) + (attempt > 0 ? " (after " + std::to_string(attempt + 1) +
                                                        " tries)"
                                                  : ""),
              .elapsed_ms = elapsed};
    }
    const auto pause = o.retry_after.count() > 0
                           ? std::chrono::duration_cast<std::chrono::milliseconds>(o.retry_after)
                           : wait;
    const auto until = clock_type::now() + std::min(pause, std::chrono::milliseconds(60000));
    while (clock_type::now() < until && !cancelled) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    wait = std::min(wait * 2, std::chrono::milliseconds(30000));
  }
}

// The role service over an OpenAI-compatible server, as a loop of two steps: admit (each task a
// request on a thread of its own), then collect the requests that finished.
class openai_worker_loop {
public:
  openai_worker_loop(const worker_config& c, const std::atomic<bool>& stop_flag)
      : c_(c), stop_flag_(stop_flag), templates_(load_templates(c)), to_(endpoint_of(c)),
        frame_(c, " with " + c.model + " at " + c.url) {}
  // However the loop ends (an exception too), no request thread outlives what it refers to.
  ~openai_worker_loop() {
    for (auto& [id, r] : by_task_) {
      cancel(r);
      if (r.thread.joinable()) r.thread.join();
    }
  }

  int run() {
    while (!done()) {
      admit();
      collect_finished();
    }
    end_drain();
    frame_.log().line("info", "stopped");
    return 0;
  }

private:
  struct running {
    size_t link = 0; // the role link the task came on
    std::shared_ptr<flight> f;
    std::shared_ptr<std::atomic<bool>> cancelled;
    std::thread thread;
  };

  static openai_endpoint endpoint_of(const worker_config& c) {
    openai_endpoint to = parse_openai_url(c.url);
    to.api_key = c.api_key;
    to.ca_file = c.ca_file;
    to.timeout = c.request_timeout;
    return to;
  }

  static void cancel(running& r) {
    r.cancelled->store(true);
    r.f->http.cancel();
  }

  // Tasks it will not run (shutting down, full): handed back, at no cost to the task.
  void hand_back(size_t link, const pt::task_msg& task, const std::string& why) {
    frame_.refuse(link, task, why, pt::task_status::task_status_handed_back);
  }

  // SIGTERM starts the drain; the loop ends once nothing runs or the drain time is over.
  bool done() {
    if (!draining_ && stop_flag_.load()) {
      draining_ = true;
      frame_.start_draining();
      drain_deadline_ = clock_type::now() + c_.drain;
      frame_.log().line("info",
                        "SIGTERM: draining " + std::to_string(by_task_.size()) + " requests");
    }
    return draining_ && (by_task_.empty() || clock_type::now() >= drain_deadline_);
  }

  void admit() {
    frame_inbox inbox = frame_.poll(std::chrono::milliseconds(5));
    for (const std::string& id : inbox.cancels) {
      if (auto it = by_task_.find(id); it != by_task_.end()) cancel(it->second);
    }
    for (role_task& arrived : inbox.tasks) {
      const size_t link = arrived.link;
      pt::task_msg& task = arrived.task;
      if (draining_) {
        hand_back(link, task, "the worker is shutting down");
        continue;
      }
      if (by_task_.contains(task.task_id)) {
        frame_.release(link); // a duplicate delivery; the first one's result answers it
        continue;
      }
      const bool raw = std::holds_alternative<pt::complete_input>(task.input);
      auto f = std::make_shared<flight>();
      f->call = roles::openai_request(task, raw ? std::string() : templates_.render(task.input),
                                      c_.model, std::min(task.sampling.max_tokens, c_.max_tokens));
      f->task = std::move(task);
      auto cancelled = std::make_shared<std::atomic<bool>>(false);
      const std::string id = f->task.task_id;
      std::thread t([this, f, cancelled] {
        pt::task_result_msg r = serve(*f, to_, c_.max_retries, *cancelled);
        const std::lock_guard lock(done_mutex_);
        done_.push_back(std::move(r));
      });
      by_task_.emplace(id, running{link, f, cancelled, std::move(t)});
    }
  }

  // Finished requests, from their threads: reported, their threads joined.
  void collect_finished() {
    std::deque<pt::task_result_msg> finished;
    {
      const std::lock_guard lock(done_mutex_);
      finished.swap(done_);
    }
    for (pt::task_result_msg& r : finished) {
      auto it = by_task_.find(r.task_id);
      if (it == by_task_.end()) continue;
      it->second.thread.join();
      const size_t link = it->second.link;
      by_task_.erase(it);
      frame_.report(link, r);
    }
  }

  // The drain ran out: the rest are stopped; answers that came in meanwhile still count, the
  // others go back to the coordinator.
  void end_drain() {
    for (auto& [id, r] : by_task_) {
      cancel(r);
      r.thread.join();
    }
    frame_.start_draining();
    for (const pt::task_result_msg& r : done_) {
      auto it = by_task_.find(r.task_id);
      if (it == by_task_.end()) continue;
      const size_t link = it->second.link;
      if (r.error == "cancelled") { // we cut it off: no fault of the task's
        hand_back(link, it->second.f->task, "the worker shut down before the task finished");
      } else {
        frame_.report(link, r);
      }
      by_task_.erase(it);
    }
    for (auto& [id, r] : by_task_) {
      hand_back(r.link, r.f->task, "the worker shut down before the task finished");
    }
    by_task_.clear();
  }

  const worker_config& c_;
  const std::atomic<bool>& stop_flag_;
  const roles::role_templates templates_;
  const openai_endpoint to_;
  worker_frame frame_;
  std::mutex done_mutex_;
  std::deque<pt::task_result_msg> done_; // finished requests, from their threads to the loop
  std::map<std::string, running> by_task_;
  bool draining_ = false;
  clock_type::time_point drain_deadline_;
};

} // namespace

int run_openai_worker(const worker_config& c, const std::atomic<bool>& stop_flag) {
  return openai_worker_loop(c, stop_flag).run();
}

} // namespace proofmesh::worker
