// Continuous batching over a model_runner: requests come and go between steps, and every step is
// schedule -> run -> postprocess (STYLE.md item 1). Rules of the road:
// - The scheduler plans each step (decodes, chunked prefills, admissions, preemptions); the
//   engine owns the runner's sequences and drops a preempted one's cache, which the scheduler
//   has it recompute later from its prompt and generated tokens.
// - Draws are keyed by (seed, stream, step) on runners that sample on the device, so a request's
//   tokens do not depend on what it was batched with, nor on a preemption in between.
// - Cancellation takes effect at the next step; the request ends with what it has.
// - Shared prompts prefill once: a request whose block-aligned prompt prefix equals that of a
//   request still computing its prompt follows it (scheduler `after`), and every request about
//   to be admitted first adopts whatever prefix the runner has cached. A leader that ends while
//   followers still wait keeps its cache (a prefix donor) until the last of them has forked it.
// The engine actor (actors/engine/serving/) hosts this, and generate() drives it for the CLI: it
// is the one generation loop.
#pragma once

#include "actors/engine/generation/completion_tracker.hpp"
#include "actors/engine/model/model_runner.hpp"
#include "actors/engine/scheduling/scheduler.hpp"

#include <map>
#include <unordered_map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace proofmesh::engine {

struct engine_request {
  std::vector<int32_t> prompt;           // token ids, non-empty, each < vocab_size
  int32_t max_tokens = 16;               // >= 1
  sampling_params sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_ids;
  uint64_t stream = 0;                   // separates draws of requests that share a seed
};

struct engine_event {
  request_id id;
  std::string text;                    // text that became safe to show this step
  int32_t token = -1;                  // the token sampled this step (-1: none)
  step_logprobs logprobs;              // its logprobs, when the request asked for them
  std::optional<completion> finished;  // set once, when the request ends
  bool cancelled = false;
};

class batch_engine {
public:
  batch_engine(model_runner& runner, const tokenizer* tok, const scheduler_config& config);
  /// Gives the runner back every sequence still held (requests in flight, prefix donors), so a
  /// runner that outlives its engine, or a step that threw, leaks no KV cache.
  ~batch_engine();
  batch_engine(const batch_engine&) = delete;
  batch_engine& operator=(const batch_engine&) = delete;

  /// Queues a request; throws input_error if it is malformed or can never fit.
  request_id submit(engine_request request);
  void cancel(request_id id);
  bool idle() const { return active_.empty(); }

  /// One forward pass: the events of every request that moved. A step is schedule(), run(),
  /// postprocess().
  std::vector<engine_event> step();

  const scheduler& planner() const { return scheduler_; }
  /// Tokens the runner has computed (prefill chunks and decodes), over the engine's life.
  int64_t num_computed_tokens() const { return computed_tokens_; }

private:
  struct active_request {
    engine_request request;
    std::vector<int32_t> tokens; // prompt, then generated tokens
    std::optional<sequence_id> seq;
    sampler host_sampler;
    completion_tracker track;
    std::optional<uint64_t> prefix_key; // set while this request leads its prefix group
    std::optional<request_id> leader;   // the request whose prompt prefix this one shares
  };

  // What a step drew: one result per plan item (read where it samples), and the first tokens
  // of the twins that joined, drawn from their leader's logits.
  struct step_draws {
    std::vector<sample_result> items;
    std::vector<std::pair<request_id, sample_result>> twins;
  };

  std::vector<engine_event> take_cancellations();
  step_schedule schedule();
  step_draws run(const step_schedule& plan);
  std::vector<request_id> twins_of(request_id leader, int64_t room) const;
  void postprocess(const step_schedule& plan, step_draws draws, std::vector<engine_event>& events);
  void accept(request_id id, sample_result picked, std::vector<engine_event>& events);
  std::optional<request_id> find_prefix_leader(request_id id, active_request& a);
  void adopt_cached_prefixes();
  bool fork_from_leader(request_id id, active_request& a);
  void release_follower(active_request& a);

  // A leader's cache as its followers see it: while the leader runs, its own entry in active_;
  // once it has ended with followers still waiting, this copy.
  struct prefix_donor {
    int64_t followers = 0;          // followers still without a sequence
    std::optional<sequence_id> seq; // set once the leader has ended
    std::vector<int32_t> tokens;    // the leader's tokens at its end
    int64_t cached = 0;             // of which in the cache
  };
  void finish(request_id id, engine_event& event);

  model_runner& runner_;
  const tokenizer* tok_;
  scheduler_config config_;
  scheduler scheduler_;
  std::map<request_id, active_request> active_;
  std::set<request_id> cancelled_;
  std::unordered_map<uint64_t, request_id> prefix_leaders_; // block-aligned prompt prefix -> leader
  std::map<request_id, prefix_donor> donors_;                // by leader
  request_id next_id_ = 0;
  int64_t computed_tokens_ = 0;
};

} // namespace proofmesh::engine
