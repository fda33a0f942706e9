// The benchmark models: random weights in the shapes of Llama-3.2-1B and Llama-3-8B, and the
// bytes a decode step must read (the bandwidth roofline's numerator).
// Rules of the road: weights are random (they do not change the timing of dense models). They are
// served through the weight_source interface, one bf16 tensor at a time as the backend asks for
// it, made on all cores from a counter keyed by the tensor's name: a run needs no files and holds
// one tensor on the host at a time, as a real load does.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/weights/weight_source.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace proofmesh::bench {

/// "llama-3.2-1b" or "llama-3-8b"; throws std::invalid_argument otherwise.
engine::model_config bench_shape(const std::string& name);

/// Any tensor a backend asks for, of the shape it expects: norms are ones, the rest uniform.
class random_weights final : public engine::weight_source {
public:
  const engine::tensor_view& fetch(std::string_view name,
                                   std::span<const int64_t> expected_shape) const override;
  bool contains(std::string_view) const override { return true; }

private:
  mutable std::vector<uint16_t> values_; // bf16 bits of the last tensor fetched
  mutable engine::tensor_view view_{};
};

/// Bytes of bf16 weights one decode step reads (embeddings read once, as the logits matrix).
double weight_bytes(const engine::model_config& config);

/// Bytes of bf16 KV cache one decode step reads for `tokens` cached tokens in all.
double kv_bytes(const engine::model_config& config, double tokens);

inline constexpr double h200_bandwidth = 4.3e12; // bytes/s, HBM3e

} // namespace proofmesh::bench
