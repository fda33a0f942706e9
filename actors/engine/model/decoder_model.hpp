// The decoder-only transformer of Llama, Qwen2 and Qwen3 on the CPU, in float32.
// Rules of the road: one forward pass serves prefill and decode alike. A batch holds any number of
// sequences, each with any number of new tokens; all their rows go through each linear layer
// together (one read of the weights per step), and only attention looks at sequences one by one.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/model/model_weights.hpp"
#include "actors/engine/model/sequence_kv.hpp"

#include <span>
#include <vector>

namespace proofmesh::engine {

struct forward_item {
  sequence_kv* kv;                 // cache to read and extend
  std::span<const int32_t> tokens; // new tokens, appended at kv->length
  bool all_logits = false;         // logits for every new token, not just the last
};

class decoder_model {
public:
  decoder_model(model_config config, model_weights weights);

  const model_config& config() const { return config_; }
  sequence_kv new_sequence() const;

  /// Logit rows [vocab] in item order: one per item, or one per token for all_logits items.
  std::vector<float> forward(std::span<const forward_item> batch);

private:
  model_config config_;
  model_weights weights_;
  std::vector<float> inv_freq_; // [head_dim / 2]
};

} // namespace proofmesh::engine
