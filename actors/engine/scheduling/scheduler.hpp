// The step planner of continuous batching: which sequences run in the next forward pass, with how
// many tokens each. Rules of the road:
// - One plan per step (STYLE.md item 8): running decodes first, then the chunked prefills already
//   under way, then new requests in arrival order, all under a per-step token budget and a cap on
//   running sequences.
// - KV blocks are counted conservatively (ceil(tokens / block_size) per sequence, as if nothing
//   were shared), against the free blocks the runner reports each step, so a plan never needs
//   more memory than exists.
// - When a decode needs a block and none is free, the most recently admitted sequence is
//   preempted by recompute: its cache is dropped and it returns to the front of the queue with
//   its prompt plus the tokens generated so far. Arrival order decides admission, so nothing
//   starves; a request larger than the whole cache is refused when it is added.
// - Shared prefixes: a request may wait `after` another one that computes the same prompt
//   prefix, and is admitted once that one's prompt is in the cache (n samples of one prompt,
//   m verifications of one proof: one prefill, not n). A request whose first tokens the runner
//   already holds starts from there (set_cached), so they cost neither budget nor blocks. One
//   whose whole prompt equals its leader's does not wait at all past the leader's last chunk:
//   its first token is drawn from the leader's logits in that step and it joins as a decode.
// Pure bookkeeping: no model, no device. The engine executes the plan and reports back.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace proofmesh::engine {

using request_id = int64_t;

struct scheduler_config {
  int32_t max_running = 256;      // sequences in one step
  int64_t max_step_tokens = 8192; // new tokens in one step (decodes count one each)
  int32_t block_size = 16;        // tokens per KV block
  int64_t total_blocks = 0;       // the KV pool's size; 0 in batch_engine: the runner's pool
};

struct scheduled_item {
  request_id id;
  int64_t start;     // tokens of this sequence already in the cache
  int64_t count;     // tokens this step computes
  bool samples;      // this step ends the sequence's known tokens: sample its next one
};

struct step_schedule {
  std::vector<scheduled_item> items;
  std::vector<request_id> preempted; // caches to drop before the step runs
};

class scheduler {
public:
  explicit scheduler(const scheduler_config& config);

  /// Queues a request whose prompt has `prompt_tokens` tokens and that may generate up to
  /// `max_new_tokens`. Returns false (and queues nothing) if it could never fit in the cache.
  /// With `after`, it is not admitted while that request is still waiting or computing its
  /// prompt.
  bool add(request_id id, int64_t prompt_tokens, int64_t max_new_tokens,
           std::optional<request_id> after = std::nullopt);
  /// Waiting requests that the next schedule may admit, in arrival order, at most `limit`.
  std::vector<request_id> admission_candidates(int64_t limit) const;
  /// A waiting request's first `tokens` tokens are in the runner's cache already (adopted from
  /// its leader or the prefix cache, so their blocks may be shared).
  void set_cached(request_id id, int64_t tokens);
  /// A waiting request whose whole prompt is in the cache (a fork of a twin's just-computed
  /// prompt) and whose first token was drawn from the twin's logits in the step that ran: it
  /// joins the running sequences as a decode. Only while running has room (can_join).
  void join(request_id id);
  bool can_join() const { return static_cast<int32_t>(running_.size()) < config_.max_running; }
  /// Drops a request wherever it is (finished, stopped or cancelled); frees its blocks.
  void remove(request_id id);

  /// What dropping a request's cache frees now, as the runner counts it (the blocks no other
  /// sequence holds); -1: unknown, the planner's own conservative count serves.
  using freed_by_drop = std::function<int64_t(request_id)>;
  /// The next step, given the blocks the runner has free now.
  step_schedule schedule(int64_t free_blocks, const freed_by_drop& freed = {});
  /// Records that a scheduled step ran; sampled items gained one generated token.
  void complete(const step_schedule& step);

  bool empty() const { return requests_.empty(); }
  int64_t num_waiting() const { return static_cast<int64_t>(waiting_.size()); }
  /// Tokens of a queued or running request whose KV is in the cache (0 when unknown).
  int64_t computed(request_id id) const {
    auto it = requests_.find(id);
    return it == requests_.end() ? 0 : it->second.computed;
  }
  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  int64_t num_preemptions() const { return preemptions_; }
  const scheduler_config& config() const { return config_; }
  /// Blocks the running sequences hold by the conservative count (no sharing).
  int64_t blocks_held() const;

private:
  struct request {
    int64_t prompt = 0;     // prompt tokens
    int64_t max_new = 0;    // generation cap
    int64_t generated = 0;  // tokens sampled so far
    int64_t computed = 0;   // tokens whose KV is in the cache
    std::optional<request_id> after; // waits for this request's prompt
    bool copy_pending = false;       // its cache ends inside a shared block: the first write
                                     // copies that block, one more block than its tokens need
    int64_t shared_blocks = 0;       // its first blocks, which another request's cache may
                                     // share (a fork, or the leader of one): dropping its cache
                                     // frees them only if nobody else holds them
  };
  void share_with_leader(request& r, int64_t tokens);
  void release_shared_partial(const request& v);
  int64_t blocks_freed_by_drop(const request& r) const;
  bool blocked(const request& r) const;
  int64_t known_tokens(const request& r) const { return r.prompt + r.generated; }
  int64_t blocks_for(int64_t tokens) const;

  scheduler_config config_;
  std::map<request_id, request> requests_;
  std::deque<request_id> waiting_;  // arrival order; preempted requests go back to the front
  std::vector<request_id> running_; // admission order: the back is preempted first
  int64_t preemptions_ = 0;
};

} // namespace proofmesh::engine
