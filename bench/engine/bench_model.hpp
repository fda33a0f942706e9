// The benchmark models: random weights in the shapes of Llama-3.2-1B and Llama-3-8B, and the
// bytes a decode step must read (the bandwidth roofline's numerator).
// Rules of the road: weights are random (they do not change the timing of dense models); they are
// made on all cores, one layer per task, from a counter, so a run needs no files.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/model/model_weights.hpp"

#include <string>

namespace proofmesh::bench {

/// "llama-3.2-1b" or "llama-3-8b"; throws std::invalid_argument otherwise.
engine::model_config bench_shape(const std::string& name);

engine::model_weights random_weights(const engine::model_config& config);

/// Bytes of bf16 weights one decode step reads (embeddings read once, as the logits matrix).
double weight_bytes(const engine::model_config& config);

/// Bytes of bf16 KV cache one decode step reads for `tokens` cached tokens in all.
double kv_bytes(const engine::model_config& config, double tokens);

inline constexpr double h200_bandwidth = 4.3e12; // bytes/s, HBM3e

} // namespace proofmesh::bench
