// The interface a generation loop drives: sequences that hold a KV cache, and a batched forward
// pass over new tokens. The CPU backend (cpu_runner) and the CUDA backend (cuda_runner) implement
// it, so sampling, stop conditions and streaming are written once. A runner may serve a new
// sequence's prompt prefix from its prefix cache; the logits it returns are the same.
// Rules of the road: one virtual call per step, never per token or op. A fork shares its parent's
// cached prefix (the CUDA backend shares KV blocks; the CPU backend copies), so n samples of one
// prompt prefill it once.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/sampling/sampler.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace proofmesh::engine {

using sequence_id = int64_t;

struct runner_item {
  sequence_id seq;                 // from create_sequence or fork_sequence
  std::span<const int32_t> tokens; // new tokens, appended at the sequence's length; non-empty
  bool all_logits = false;         // logits for every new token, not just the last
  int32_t draws = 1;               // forward_sample: tokens drawn from its last position (n
                                   // samples of one prompt share its logits); forward ignores it
};

// How to pick the next token of one item on the device: the stream (completion index) and step
// (token index) key the random draw, so a seed reproduces a run whatever the batching.
struct sample_spec {
  sampling_params params;
  uint64_t stream = 0;
  uint64_t step = 0;
};

struct runner_stats {
  int64_t prefix_hit_tokens = 0; // prompt tokens served from the prefix cache, not recomputed
  int64_t free_kv_blocks = -1;   // blocks a new sequence can still take; -1 where unbounded
  int64_t graph_steps = 0;       // steps replayed from a captured CUDA graph
  int64_t graph_captures = 0;    // CUDA graphs captured
  int64_t loaded_bytes = 0;      // weight bytes read from the host at load
  double load_seconds = 0;       // time the load took
};

class model_runner {
public:
  virtual ~model_runner() = default;

  virtual const model_config& config() const = 0;
  virtual sequence_id create_sequence() = 0;
  /// A new sequence whose cache starts as a copy of `parent`'s.
  virtual sequence_id fork_sequence(sequence_id parent) = 0;
  virtual void release_sequence(sequence_id seq) = 0;
  /// KV blocks that release_sequence(seq) would make available now (those no other sequence
  /// holds); -1 where the runner keeps no block pool.
  virtual int64_t blocks_freed_by_release(sequence_id seq) const {
    (void)seq;
    return -1;
  }
  /// A new sequence sharing the first `length` cached tokens of `parent`, where the runner can
  /// share a partial block; nullopt where it cannot (the caller falls back to
  /// adopt_cached_prefix).
  virtual std::optional<sequence_id> fork_prefix(sequence_id parent, int64_t length) {
    (void)parent;
    (void)length;
    return std::nullopt;
  }
  /// For an empty `seq`: adopts the longest cached prefix of `tokens` that leaves at least one
  /// token to compute, and returns its length; the caller then appends from there. Runners
  /// without a prefix cache adopt nothing.
  virtual int64_t adopt_cached_prefix(sequence_id seq, std::span<const int32_t> tokens) {
    (void)seq;
    (void)tokens;
    return 0;
  }
  /// float32 logit rows [vocab] in item order: one per item, or one per token for all_logits.
  virtual std::vector<float> forward(std::span<const runner_item> batch) = 0;
  virtual runner_stats stats() const { return {}; }
  /// Tokens per KV block where the cache is paged; 0 where it is not.
  virtual int32_t kv_block_size() const { return 0; }

  /// Whether forward_sample is available: the runner samples next to its logits.
  virtual bool samples_on_device() const { return false; }
  /// Forward, then `draws` sampled tokens per item from its last position's logits: one spec
  /// and one result per draw, in item order. Only runners whose samples_on_device() is true
  /// implement it.
  virtual std::vector<sample_result> forward_sample(std::span<const runner_item> batch,
                                                    std::span<const sample_spec> specs);
};

} // namespace proofmesh::engine
