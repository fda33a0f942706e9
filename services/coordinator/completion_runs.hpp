// The coordinator's side of the OpenAI-compatible API: requests from the `completions` stream,
// each run as n completion tasks on the pool its model names, their text streamed back as
// events on completion:<id>:events for the gateway. Rules of the road:
// - Unlike jobs, completions are interactive and not resumable: a request is answered from this
//   coordinator's memory, and one reclaimed from a dead coordinator is ended with an error event
//   (the client retries) rather than run twice behind its back.
// - Text deltas carry their byte offset, so a task re-run after a lost worker (same seed, same
//   text) never repeats what the client already has: only bytes past what was passed on go out.
// - A failed task is run again up to 3 times, then the whole request ends with an error event.
// - Events are written in order by flush(); the last is `completed` (with usage), `cancelled` or
//   `error`, after which the stream key expires in an hour and the entry is acknowledged. While
//   Redis is away they wait in memory, in order, and the request goes on.
// Events: {"type": "delta", "index", "text"}, {"type": "choice", "index", "finish_reason"},
//         {"type": "completed", "usage": {...}}, {"type": "cancelled"},
//         {"type": "error", "code", "message"}.
#pragma once

#include "actors/pipeline/completion_request.hpp"
#include "actors/transport/job_queue.hpp"

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace proofmesh::coordinator {

class completion_runs {
public:
  completion_runs(transport::redis_client& redis, transport::job_queue& queue)
      : redis_(redis), queue_(queue) {}

  /// Takes a new entry of the completions stream; returns its tasks (none when it ended at once:
  /// malformed, or no live worker in its pool).
  std::vector<transport::task_msg> start(const transport::job_entry& e,
                                         const std::array<size_t, 3>& workers_per_pool);
  /// An entry reclaimed from a dead coordinator: ended with an error event.
  void abandon(const transport::job_entry& e);

  bool owns(const std::string& task_id) const;
  void on_progress(const transport::progress_msg& p);
  struct step {
    std::optional<transport::task_msg> rerun; // dispatch this again
    std::vector<std::string> withdraw;        // cancel these (the request ended)
  };
  /// A result of one of its tasks.
  step on_result(const transport::task_result_msg& r);

  std::vector<std::string> running_ids() const;
  /// The stream entries of the requests running here (to keep them from being reclaimed).
  std::vector<std::string> entries() const;
  /// Ends a request as cancelled; returns the ids of its tasks still running.
  std::vector<std::string> cancel(const std::string& id);

  size_t size() const { return runs_.size(); }
  /// Writes the events (and acks) waiting, in order; throws redis_unavailable with the rest
  /// kept for the next call.
  void flush();

private:
  struct choice {
    uint32_t emitted = 0; // bytes passed on
    uint32_t logprobs_emitted = 0; // token logprobs passed on
    bool done = false;
    uint32_t attempts = 1;
    uint32_t handed_back = 0; // returns unrun (a worker shutting down): no attempt spent
  };
  struct run {
    pipeline::completion_request request;
    std::string entry;
    std::vector<choice> choices;
    std::vector<transport::task_msg> tasks;
    int64_t prompt_tokens = 0, completion_tokens = 0;
    int32_t finished = 0;
  };

  struct pending_event {
    std::string id;
    std::string json;
    bool last = false;
    std::string ack; // the stream entry to acknowledge once it is written
  };

  void event(const std::string& id, const std::string& json, bool last = false,
             std::string ack = {});
  void end(const std::string& id, const std::string& json); // last event, ack, forget
  std::vector<std::string> open_tasks(const std::string& id) const;
  // (request id, choice index) of a task id "<id>/<index>"; nullopt when not ours.
  std::optional<std::pair<std::string, size_t>> owner(const std::string& task_id) const;
  using choice_id = std::pair<std::string, size_t>;
  step on_failure(const choice_id& who, const transport::task_result_msg& result);
  // The choice once more while attempts are left, else the request's end with `why`.
  step again_or_fail(const choice_id& who, const std::string& why);

  transport::redis_client& redis_;
  transport::job_queue& queue_;
  std::map<std::string, run> runs_;
  std::deque<pending_event> pending_;
};

} // namespace proofmesh::coordinator
