// The CUDA backend of the op interface, in compute type T (float or __nv_bfloat16): each op is a
// kernel launch on one stream, accumulating in float32.
// Rules of the road: weights stream in from the weight source one tensor at a time
// (weight_upload) and fused weights are assembled on the device. The runner (cuda_runner) owns
// the plan: it sizes the step's buffers (reserve_outputs, reserve_attention) before forward and
// hands the step's device index (set_step) to the ops that read it. Any buffer that moves bumps
// epoch(), so decode graphs that captured the old address are dropped, never replayed.
#pragma once

#include "actors/engine/cuda/device_array.hpp"
#include "actors/engine/cuda/op_timer.hpp"
#include "actors/engine/cuda/paged_kv_cache.hpp"
#include "actors/engine/cuda/weight_upload.hpp"
#include "actors/engine/model/ops.hpp"
#include "kernels/cuda/gemm.cuh"

#include <cuda_runtime.h>

#include <deque>
#include <memory>
#include <vector>

namespace proofmesh::engine {

/// The step as the device sees it: pointers into the runner's uploaded plan.
struct cuda_step {
  const int32_t* ids = nullptr;          // [tokens]
  const int32_t* positions = nullptr;    // [tokens]
  const int32_t* token_seq = nullptr;    // [tokens] index of each token's sequence in the batch
  const int32_t* slots = nullptr;        // [tokens] KV cache slots; negative: store nothing
  const int32_t* logit_rows = nullptr;   // [rows] tokens whose logits are wanted
  const int32_t* block_tables = nullptr; // [batch, max_blocks]
  int64_t rows = 0;                      // logit rows
  int64_t max_blocks = 0;                // row length of block_tables
  int32_t attention_splits = 1;          // flash-decoding key ranges (paged_attention_splits)
  int32_t max_query_tokens = 0;          // most tokens of one sequence in the step; 0: unknown
};

template <typename T>
class cuda_ops final : public ops {
public:
  cuda_ops(cudaStream_t stream, kernels::cuda::gemm_handle& gemm);

  /// Waits for the uploads and frees their staging; loading ends here.
  void finish_loading() override;

  void set_cache(paged_kv_cache* cache) { cache_ = cache; }
  void set_step(const cuda_step& step) { step_ = step; }
  void reserve_outputs(int64_t rows, int64_t hidden, int64_t vocab);
  void reserve_attention(size_t workspace_floats);
  /// [rows, vocab] float32 logits of the last step.
  float* logits() const { return logits_.get(); }
  uint64_t epoch() const { return epoch_; }
  /// Per-op times (PM_OP_TIMES): the runner calls this once a step's work has finished.
  void collect_op_times() { timer_.collect(); }
  void set_op_phase(const char* phase) { timer_.set_phase(phase); }
  /// Times work outside the ops (the runner's sampling) under `name` in the same totals.
  op_timer::scope time_op(const char* name) { return timer_.time(name); }

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
  // DeepSeek's ops. moe reads the routing back to the host to group tokens by expert, so a
  // DeepSeek step is never captured into a graph (the runner turns graphs off for it).
  void mla_attention(int64_t layer, tensor q, tensor latent, const weight& kv_b, tensor out,
                     const mla_shape& shape) override;
  void index_select(int64_t layer, tensor q, tensor k, tensor head_weights,
                    const index_shape& shape) override;
  void moe(tensor x, const moe_weights& w, const moe_shape& shape, tensor out) override;
  void silu_mul(tensor gate_up, tensor out) override;
  void mlp_activation(tensor x, const weight& w, tensor gate_up, tensor act) override;
  void logits(tensor x, const weight& head) override;

private:
  void matmul(const T* x, const weight& w, const void* bias, void* y, int64_t m,
              cudaDataType_t out_type);
  template <typename U>
  void grow(device_array<U>& buffer, size_t count) {
    epoch_ += buffer.reserve(count) ? 1 : 0;
  }

  cudaStream_t stream_;
  kernels::cuda::gemm_handle& gemm_;
  std::unique_ptr<weight_upload> upload_;
  std::deque<device_array<T>> weights_;      // deque: a weight's address never moves
  std::deque<device_array<float>> tables_;
  std::vector<device_array<T>> scratch_;
  device_array<T> picked_;                   // [rows, hidden] gathered logit rows
  device_array<float> logits_;               // [rows, vocab]
  device_array<float> attention_workspace_;  // flash-decoding partials
  // DeepSeek's workspaces, grown on first use (its steps are never captured).
  device_array<float> mla_workspace_;        // mla_attention's latents and split partials
  device_array<float> index_scores_;         // [tokens, max positions]
  device_array<int32_t> selected_;           // [tokens, selected_topk_] the indexer's choice
  int64_t selected_topk_ = 0;
  device_array<float> router_logits_;        // [tokens, experts]
  device_array<int32_t> route_ids_;          // [tokens, per_token]
  device_array<float> route_weights_;        // [tokens, per_token]
  device_array<int32_t> moe_index_;          // sorted tokens [pairs] | pair rows [pairs]
  device_array<T> moe_x_;                    // [pairs, hidden] tokens gathered in expert order
  device_array<T> moe_gate_up_;              // [pairs, 2 * intermediate]
  device_array<T> moe_act_;                  // [pairs, intermediate]
  device_array<T> moe_y_;                    // [pairs, hidden]
  op_timer timer_;
  paged_kv_cache* cache_ = nullptr;
  cuda_step step_;
  uint64_t epoch_ = 0;
};

} // namespace proofmesh::engine
