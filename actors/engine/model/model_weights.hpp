// The weights of one decoder model, converted to float32 for the CPU backend.
// Rules of the road: names and shapes follow Hugging Face's Llama/Qwen2/Qwen3 checkpoints; every
// tensor is checked against the shape the config implies before use, so a mismatched checkpoint
// fails at load with the tensor's name, never later with a wrong answer.
#pragma once

#include "actors/engine/model/model_config.hpp"

#include <vector>

namespace proofmesh::engine {

class weight_store;

struct layer_weights {
  std::vector<float> input_norm;     // [hidden]
  std::vector<float> wq;             // [q_dim, hidden]
  std::vector<float> wk;             // [kv_dim, hidden]
  std::vector<float> wv;             // [kv_dim, hidden]
  std::vector<float> bq;             // [q_dim], empty without qkv_bias
  std::vector<float> bk;             // [kv_dim], empty without qkv_bias
  std::vector<float> bv;             // [kv_dim], empty without qkv_bias
  std::vector<float> q_norm;         // [head_dim], empty without qk_norm
  std::vector<float> k_norm;         // [head_dim], empty without qk_norm
  std::vector<float> wo;             // [hidden, q_dim]
  std::vector<float> bo;             // [hidden], empty without o_bias
  std::vector<float> post_norm;      // [hidden]
  std::vector<float> w_gate;         // [intermediate, hidden]
  std::vector<float> w_up;           // [intermediate, hidden]
  std::vector<float> w_down;         // [hidden, intermediate]
};

struct model_weights {
  std::vector<float> embed;          // [vocab, hidden]
  std::vector<layer_weights> layers; // [num_hidden_layers]
  std::vector<float> final_norm;     // [hidden]
  std::vector<float> lm_head;        // [vocab, hidden]; empty when tied to embed

  const std::vector<float>& output_weight() const { return lm_head.empty() ? embed : lm_head; }
};

model_weights load_model_weights(const model_config& config, const weight_store& store);

} // namespace proofmesh::engine
