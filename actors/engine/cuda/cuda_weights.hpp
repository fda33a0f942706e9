// The model's weights on the device, in the compute type T (float or __nv_bfloat16).
// Rules of the road: projections that read the same input are fused at upload (q|k|v into one
// [q_dim + 2*kv_dim, hidden] matrix, gate|up into one [2*intermediate, hidden]), so each layer
// runs four GEMMs. Shapes follow model_weights.hpp; absent optional tensors stay empty.
#pragma once

#include "actors/engine/cuda/device_array.hpp"
#include "actors/engine/model/model_config.hpp"
#include "actors/engine/model/model_weights.hpp"

#include <vector>

namespace proofmesh::engine {

template <typename T>
struct cuda_layer_weights {
  device_array<T> input_norm; // [hidden]
  device_array<T> wqkv;       // [q_dim + 2*kv_dim, hidden]
  device_array<T> bqkv;       // [q_dim + 2*kv_dim], empty without qkv_bias
  device_array<T> q_norm;     // [head_dim], empty without qk_norm
  device_array<T> k_norm;     // [head_dim], empty without qk_norm
  device_array<T> wo;         // [hidden, q_dim]
  device_array<T> bo;         // [hidden], empty without o_bias
  device_array<T> post_norm;  // [hidden]
  device_array<T> w_gate_up;  // [2*intermediate, hidden]
  device_array<T> w_down;     // [hidden, intermediate]
};

template <typename T>
struct cuda_weights {
  device_array<T> embed;                       // [vocab, hidden]
  std::vector<cuda_layer_weights<T>> layers;   // [num_hidden_layers]
  device_array<T> final_norm;                  // [hidden]
  device_array<T> lm_head;                     // [vocab, hidden], empty when tied

  const T* output_weight() const { return lm_head.empty() ? embed.get() : lm_head.get(); }
};

/// Converts and copies `host` to the device; synchronous.
template <typename T>
cuda_weights<T> upload_weights(const model_config& config, const model_weights& host);

} // namespace proofmesh::engine
