// A model family's description: its weights, the shape of its KV cache, and its forward pass,
// written once over the op interface (ops.hpp). A runner owns one architecture and one backend,
// and drives a step as prepare (size the activations) then forward (run the layers).
// Rules of the road: a new family is one new file under actors/engine/model/ plus any op it
// needs; load_architecture is the one place that maps a config to its family.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/model/ops.hpp"
#include "kernels/cpu/rope.hpp"

#include <cstdint>
#include <memory>

namespace proofmesh::engine {

/// What one token stores per layer in the KV cache.
struct kv_layout {
  int64_t num_layers = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;  // key values per head (MLA: the latent and the rope key)
  int64_t value_dim = 0; // value values per head; 0 when the keys are the values too (MLA)
  int64_t index_dim = 0; // the DSA indexer's key; 0 without an indexer

  int64_t key_width() const { return kv_heads * head_dim; }
  int64_t value_width() const { return kv_heads * value_dim; }
};

/// The size of one forward call.
struct step_shape {
  int64_t tokens = 0;     // new tokens of all sequences, concatenated
  int64_t logit_rows = 0; // rows whose logits the step returns
};

class architecture {
public:
  virtual ~architecture() = default;

  virtual const model_config& config() const = 0;
  virtual kv_layout cache_layout() const = 0;
  /// Sizes the activations for `shape` (may allocate; never inside a graph capture).
  virtual void prepare(ops& backend, step_shape shape) = 0;
  /// The forward pass of the prepared step: embed, layers, final norm, logits.
  virtual void forward(ops& backend) = 0;
};

/// The rope frequencies `config` asks for, over its head_dim (DeepSeek: the rope part of a head).
kernels::cpu::rope_freq_params rope_frequencies(const model_config& config);

/// What a load read, and how long it took until the weights were in place.
struct load_stats {
  int64_t bytes = 0;
  double seconds = 0;
};

/// Loads the family `config` names from `source` into `backend`'s memory, one tensor at a time,
/// and waits until it is in place (ops::finish_loading).
std::unique_ptr<architecture> load_architecture(const model_config& config,
                                                const weight_source& source, ops& backend,
                                                load_stats* stats = nullptr);

} // namespace proofmesh::engine
