// The CPU backend of the op interface: every op in float32, the numerical reference for the GPU.
// Rules of the road: weights are widened to float32 as they load, one tensor at a time (FP8 ones
// dequantised with their block scales). The KV cache is one growing buffer per sequence and layer
// (sequence_kv), and attention runs sequence by sequence; the runner (cpu_runner) hands each step
// to set_step before forward.
#pragma once

#include "actors/engine/model/ops.hpp"
#include "actors/engine/model/sequence_kv.hpp"

#include <deque>
#include <vector>

namespace proofmesh::engine {

/// One sequence's part of a CPU step.
struct cpu_step_item {
  sequence_kv* kv = nullptr; // cache read and extended; its length is the first new position
  int64_t first_row = 0;     // of its first new token in the step's rows
  int64_t tokens = 0;        // new tokens
};

struct cpu_step {
  std::vector<int32_t> ids;          // [tokens]
  std::vector<int64_t> positions;    // [tokens]
  std::vector<cpu_step_item> items;  // [sequences]
  std::vector<int64_t> logit_rows;   // [rows] step rows whose logits are returned
};

class cpu_ops final : public ops {
public:
  void set_step(cpu_step step) { step_ = std::move(step); }
  /// Keys and values as the GPU's FP8 cache holds them: each kv head of each new row rounded to
  /// e4m3 with its own scale (kernels/cuda/kv_cache_write.cuh), then kept as float32.
  void set_fp8_kv_cache(bool on) { fp8_kv_cache_ = on; }
  /// The last step's logits, [rows, vocab].
  std::vector<float> take_logits() { return std::move(logits_); }

  weight load(const weight_source& source, std::span<const weight_part> parts) override;
  weight load_table(std::span<const float> values) override;
  tensor scratch(int32_t slot, int64_t rows, int64_t cols) override;

  void embed(const weight& table, tensor out) override;
  void rms_norm(tensor x, const tensor* residual, const weight& w, tensor out,
                float eps) override;
  void head_rms_norm(tensor x, int64_t heads, const weight& w, float eps) override;
  void linear(tensor x, const weight& w, const weight& bias, tensor y) override;
  void layer_norm(tensor x, const weight& w, const weight& bias, tensor out, float eps) override;
  void rope(tensor x, const rope_shape& shape, const weight& inv_freq) override;
  void attention(int64_t layer, tensor q, tensor k, tensor v, tensor out,
                 const attention_shape& shape) override;
  void mla_attention(int64_t layer, tensor q, tensor latent, const weight& kv_b, tensor out,
                     const mla_shape& shape) override;
  void index_select(int64_t layer, tensor q, tensor k, tensor head_weights,
                    const index_shape& shape) override;
  void moe(tensor x, const moe_weights& w, const moe_shape& shape, tensor out) override;
  void silu_mul(tensor gate_up, tensor out) override;
  void logits(tensor x, const weight& head) override;

private:
  std::deque<std::vector<float>> weights_; // deque: a weight's address never moves
  std::vector<std::vector<float>> scratch_;
  std::vector<float> picked_;
  std::vector<float> logits_;
  std::vector<int32_t> selected_; // [tokens, selected_topk_]: the last index_select's choice
  int64_t selected_topk_ = 0;
  cpu_step step_;
  bool fp8_kv_cache_ = false;
};

} // namespace proofmesh::engine
