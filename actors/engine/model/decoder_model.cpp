#include "actors/engine/model/decoder_model.hpp"

#include "actors/common/check.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/rms_norm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/silu_mul.hpp"

#include <cmath>
#include <cstring>

namespace proofmesh::engine {

namespace cpu = kernels::cpu;

namespace {

void linear(const std::vector<float>& x, int64_t rows, const std::vector<float>& w,
            const std::vector<float>& bias, int64_t out_dim, int64_t in_dim,
            std::vector<float>& y) {
  y.resize(static_cast<size_t>(rows * out_dim));
  cpu::matmul({.x = x.data(),
               .w = w.data(),
               .bias = bias.empty() ? nullptr : bias.data(),
               .y = y.data(),
               .m = rows,
               .n = out_dim,
               .k = in_dim});
}

void norm_rows(float* x, const float* residual, const std::vector<float>& weight, float* out,
               int64_t rows, int64_t dim, int64_t stride, double eps) {
  cpu::rms_norm({.x = x,
                 .residual = residual,
                 .weight = weight.data(),
                 .out = out,
                 .rows = rows,
                 .dim = dim,
                 .row_stride = stride,
                 .eps = static_cast<float>(eps)});
}

} // namespace

decoder_model::decoder_model(model_config config, model_weights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  const rope_config& r = config_.rope;
  inv_freq_ = cpu::rope_inv_freq({.head_dim = config_.head_dim,
                                  .theta = r.theta,
                                  .llama3 = r.kind == rope_kind::rope_kind_llama3,
                                  .factor = r.factor,
                                  .low_freq_factor = r.low_freq_factor,
                                  .high_freq_factor = r.high_freq_factor,
                                  .original_max_position =
                                      static_cast<double>(r.original_max_position_embeddings)});
}

sequence_kv decoder_model::new_sequence() const {
  sequence_kv kv;
  kv.keys.resize(static_cast<size_t>(config_.num_hidden_layers));
  kv.values.resize(static_cast<size_t>(config_.num_hidden_layers));
  return kv;
}

std::vector<float> decoder_model::forward(std::span<const forward_item> batch) {
  const model_config& c = config_;
  const int64_t hidden = c.hidden_size;
  const int64_t q_dim = c.q_dim();
  const int64_t kv_dim = c.kv_dim();

  // Flatten the batch: row r of every activation is token r of the concatenated new tokens.
  std::vector<int64_t> positions;
  std::vector<int64_t> first_row;
  for (const forward_item& item : batch) {
    PM_ASSERT(!item.tokens.empty(), "every batch item brings at least one token");
    first_row.push_back(static_cast<int64_t>(positions.size()));
    for (size_t t = 0; t < item.tokens.size(); ++t) {
      positions.push_back(item.kv->length + static_cast<int64_t>(t));
    }
  }
  const int64_t rows = static_cast<int64_t>(positions.size());

  // Embedding gather.
  std::vector<float> h(static_cast<size_t>(rows * hidden));
  int64_t r = 0;
  for (const forward_item& item : batch) {
    for (int32_t id : item.tokens) {
      PM_ASSERT(id >= 0 && id < c.vocab_size, "token id checked by the caller");
      std::memcpy(&h[static_cast<size_t>(r++ * hidden)], &weights_.embed[static_cast<size_t>(id) * hidden],
                  sizeof(float) * static_cast<size_t>(hidden));
    }
  }

  std::vector<float> x(h.size()), q, k, v, attn(static_cast<size_t>(rows * q_dim)), o, gate, up;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  for (size_t li = 0; li < weights_.layers.size(); ++li) {
    const layer_weights& lw = weights_.layers[li];

    // Attention block: x = norm(h); q, k, v projections; per-head norm; rotary positions.
    norm_rows(h.data(), nullptr, lw.input_norm, x.data(), rows, hidden, hidden, c.rms_norm_eps);
    linear(x, rows, lw.wq, lw.bq, q_dim, hidden, q);
    linear(x, rows, lw.wk, lw.bk, kv_dim, hidden, k);
    linear(x, rows, lw.wv, lw.bv, kv_dim, hidden, v);
    if (c.qk_norm) {
      norm_rows(q.data(), nullptr, lw.q_norm, q.data(), rows * c.num_attention_heads, c.head_dim,
                c.head_dim, c.rms_norm_eps);
      norm_rows(k.data(), nullptr, lw.k_norm, k.data(), rows * c.num_key_value_heads, c.head_dim,
                c.head_dim, c.rms_norm_eps);
    }
    cpu::rope({.x = q.data(), .positions = positions.data(), .inv_freq = inv_freq_.data(),
               .tokens = rows, .heads = c.num_attention_heads, .head_dim = c.head_dim,
               .token_stride = q_dim});
    cpu::rope({.x = k.data(), .positions = positions.data(), .inv_freq = inv_freq_.data(),
               .tokens = rows, .heads = c.num_key_value_heads, .head_dim = c.head_dim,
               .token_stride = kv_dim});

    // Append the new keys and values, then attend, one sequence at a time.
    for (size_t b = 0; b < batch.size(); ++b) {
      const forward_item& item = batch[b];
      int64_t n = static_cast<int64_t>(item.tokens.size());
      int64_t row0 = first_row[b];
      auto& kc = item.kv->keys[li];
      auto& vc = item.kv->values[li];
      kc.insert(kc.end(), k.begin() + row0 * kv_dim, k.begin() + (row0 + n) * kv_dim);
      vc.insert(vc.end(), v.begin() + row0 * kv_dim, v.begin() + (row0 + n) * kv_dim);
      cpu::attention({.q = q.data() + row0 * q_dim,
                      .k_cache = kc.data(),
                      .v_cache = vc.data(),
                      .out = attn.data() + row0 * q_dim,
                      .tokens = n,
                      .first_position = item.kv->length,
                      .heads = c.num_attention_heads,
                      .kv_heads = c.num_key_value_heads,
                      .head_dim = c.head_dim,
                      .q_stride = q_dim,
                      .out_stride = q_dim,
                      .scale = scale});
    }
    linear(attn, rows, lw.wo, lw.bo, hidden, q_dim, o);

    // MLP block: h += o; x = norm(h); h += down(silu(gate(x)) * up(x)).
    norm_rows(h.data(), o.data(), lw.post_norm, x.data(), rows, hidden, hidden, c.rms_norm_eps);
    linear(x, rows, lw.w_gate, {}, c.intermediate_size, hidden, gate);
    linear(x, rows, lw.w_up, {}, c.intermediate_size, hidden, up);
    cpu::silu_mul({.gate = gate.data(), .up = up.data(), .out = gate.data(),
                   .n = rows * c.intermediate_size});
    linear(gate, rows, lw.w_down, {}, hidden, c.intermediate_size, o);
    for (size_t i = 0; i < h.size(); ++i) {
      h[i] += o[i];
    }
  }
  for (size_t b = 0; b < batch.size(); ++b) {
    batch[b].kv->length += static_cast<int64_t>(batch[b].tokens.size());
  }

  // Final norm and logits, only for the rows the caller wants.
  std::vector<float> picked;
  for (size_t b = 0; b < batch.size(); ++b) {
    int64_t n = static_cast<int64_t>(batch[b].tokens.size());
    int64_t from = batch[b].all_logits ? 0 : n - 1;
    for (int64_t t = from; t < n; ++t) {
      auto row = h.begin() + (first_row[b] + t) * hidden;
      picked.insert(picked.end(), row, row + hidden);
    }
  }
  int64_t out_rows = static_cast<int64_t>(picked.size()) / hidden;
  norm_rows(picked.data(), nullptr, weights_.final_norm, picked.data(), out_rows, hidden, hidden,
            c.rms_norm_eps);
  std::vector<float> logits;
  linear(picked, out_rows, weights_.output_weight(), {}, c.vocab_size, hidden, logits);
  return logits;
}

} // namespace proofmesh::engine
