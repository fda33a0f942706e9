// The dense decoder of Llama, Qwen2 and Qwen3, written once for every backend (ops.hpp).
// Rules of the road: the families differ by model_config switches (qkv_bias, o_bias, qk_norm,
// head_dim, a tied head), never by copies of this file. Names and shapes follow Hugging Face's
// checkpoints, and every tensor is checked against the shape the config implies as it loads, so
// a mismatched checkpoint fails at load with the tensor's name, never later with a wrong answer.
// Projections that read the same input load as one weight (q|k|v, gate|up): a layer is four
// matrix products on every backend.
#include "actors/engine/model/dense_decoder.hpp"

#include "kernels/cpu/rope.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace proofmesh::engine {

namespace {

struct layer_weights {
  weight input_norm; // [hidden]
  weight wqkv;       // [q_dim + 2*kv_dim, hidden]: q_proj | k_proj | v_proj
  weight bqkv;       // [q_dim + 2*kv_dim], empty without qkv_bias
  weight q_norm;     // [head_dim], empty without qk_norm
  weight k_norm;     // [head_dim], empty without qk_norm
  weight wo;         // [hidden, q_dim]
  weight bo;         // [hidden], empty without o_bias
  weight post_norm;  // [hidden]
  weight w_gate_up;  // [2*intermediate, hidden]: gate_proj | up_proj
  weight w_down;     // [hidden, intermediate]
};

struct model_weights {
  weight embed;                      // [vocab, hidden]
  std::vector<layer_weights> layers; // [num_hidden_layers]
  weight final_norm;                 // [hidden]
  weight lm_head;                    // [vocab, hidden]; embed when tied
  weight inv_freq;                   // [head_dim / 2] float32 rope frequencies
};

// The activations of one step; slot numbers are this file's own.
enum slot : int32_t { slot_h, slot_x, slot_qkv, slot_attn, slot_o, slot_gate_up, slot_act, slot_mlp };

struct activations {
  tensor h;       // [tokens, hidden] the residual stream
  tensor x;       // [tokens, hidden] normed input of a block
  tensor qkv;     // [tokens, q_dim + 2*kv_dim]
  tensor attn;    // [tokens, q_dim]
  tensor o;       // [tokens, hidden]
  tensor gate_up; // [tokens, 2*intermediate]
  tensor act;     // [tokens, intermediate]
  tensor mlp;     // [tokens, hidden]
};

class dense_decoder final : public architecture {
public:
  dense_decoder(const model_config& config, const weight_source& source, ops& backend)
      : config_(config) {
    const model_config& c = config_;
    const int64_t h = c.hidden_size;
    auto one = [&](const std::string& name, std::vector<int64_t> shape) {
      weight_part part{.name = name, .shape = std::move(shape)};
      return backend.load(source, std::span(&part, 1));
    };
    auto fused = [&](std::vector<weight_part> parts) { return backend.load(source, parts); };

    w_.embed = one("model.embed_tokens.weight", {c.vocab_size, h});
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      const std::string a = p + "self_attn.";
      layer_weights l;
      l.input_norm = one(p + "input_layernorm.weight", {h});
      l.wqkv = fused({{a + "q_proj.weight", {c.q_dim(), h}},
                      {a + "k_proj.weight", {c.kv_dim(), h}},
                      {a + "v_proj.weight", {c.kv_dim(), h}}});
      if (c.qkv_bias) {
        l.bqkv = fused({{a + "q_proj.bias", {c.q_dim()}},
                        {a + "k_proj.bias", {c.kv_dim()}},
                        {a + "v_proj.bias", {c.kv_dim()}}});
      }
      if (c.qk_norm) {
        l.q_norm = one(a + "q_norm.weight", {c.head_dim});
        l.k_norm = one(a + "k_norm.weight", {c.head_dim});
      }
      l.wo = one(a + "o_proj.weight", {h, c.q_dim()});
      if (c.o_bias) {
        l.bo = one(a + "o_proj.bias", {h});
      }
      l.post_norm = one(p + "post_attention_layernorm.weight", {h});
      l.w_gate_up = fused({{p + "mlp.gate_proj.weight", {c.intermediate_size, h}},
                           {p + "mlp.up_proj.weight", {c.intermediate_size, h}}});
      l.w_down = one(p + "mlp.down_proj.weight", {h, c.intermediate_size});
      w_.layers.push_back(l);
    }
    w_.final_norm = one("model.norm.weight", {h});
    // A tied checkpoint may still carry lm_head.weight; the config decides which one is used.
    w_.lm_head = c.tie_word_embeddings ? w_.embed : one("lm_head.weight", {c.vocab_size, h});

    w_.inv_freq = backend.load_table(kernels::cpu::rope_inv_freq(rope_frequencies(c)));
  }

  const model_config& config() const override { return config_; }

  kv_layout cache_layout() const override {
    return {.num_layers = config_.num_hidden_layers, .kv_heads = config_.num_key_value_heads,
            .head_dim = config_.head_dim, .value_dim = config_.head_dim};
  }

  void prepare(ops& o, step_shape shape) override {
    const model_config& c = config_;
    const int64_t n = shape.tokens;
    a_ = {.h = o.scratch(slot_h, n, c.hidden_size),
          .x = o.scratch(slot_x, n, c.hidden_size),
          .qkv = o.scratch(slot_qkv, n, c.q_dim() + 2 * c.kv_dim()),
          .attn = o.scratch(slot_attn, n, c.q_dim()),
          .o = o.scratch(slot_o, n, c.hidden_size),
          .gate_up = o.scratch(slot_gate_up, n, 2 * c.intermediate_size),
          .act = o.scratch(slot_act, n, c.intermediate_size),
          .mlp = o.scratch(slot_mlp, n, c.hidden_size)};
  }

  // The forward pass, top to bottom.
  void forward(ops& o) override {
    const model_config& c = config_;
    const auto eps = static_cast<float>(c.rms_norm_eps);
    const attention_shape attention{
        .heads = c.num_attention_heads, .kv_heads = c.num_key_value_heads,
        .head_dim = c.head_dim, .scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
    tensor q = a_.qkv.columns(0, c.q_dim());
    tensor k = a_.qkv.columns(c.q_dim(), c.kv_dim());
    tensor v = a_.qkv.columns(c.q_dim() + c.kv_dim(), c.kv_dim());
    // q's heads and then k's sit side by side in each qkv row: one rope call rotates both.
    tensor qk = a_.qkv.columns(0, c.q_dim() + c.kv_dim());

    o.embed(w_.embed, a_.h);
    for (size_t li = 0; li < w_.layers.size(); ++li) {
      const layer_weights& lw = w_.layers[li];
      // Attention block: h += mlp (of the layer before); x = norm(h); q, k, v; QK-norm; rope.
      o.rms_norm(a_.h, li == 0 ? nullptr : &a_.mlp, lw.input_norm, a_.x, eps);
      o.linear(a_.x, lw.wqkv, lw.bqkv, a_.qkv);
      if (c.qk_norm) {
        o.head_rms_norm(q, c.num_attention_heads, lw.q_norm, eps);
        o.head_rms_norm(k, c.num_key_value_heads, lw.k_norm, eps);
      }
      o.rope(qk,
             {.heads = c.num_attention_heads + c.num_key_value_heads, .head_stride = c.head_dim,
              .dim = c.head_dim},
             w_.inv_freq);
      o.attention(static_cast<int64_t>(li), q, k, v, a_.attn, attention);
      o.linear(a_.attn, lw.wo, lw.bo, a_.o);

      // MLP block: h += o; x = norm(h); mlp = down(silu(gate(x)) * up(x)).
      o.rms_norm(a_.h, &a_.o, lw.post_norm, a_.x, eps);
      o.mlp_activation(a_.x, lw.w_gate_up, a_.gate_up, a_.act);
      o.linear(a_.act, lw.w_down, {}, a_.mlp);
    }
    // h += mlp; x = final_norm(h); float32 logits of the wanted rows.
    o.rms_norm(a_.h, &a_.mlp, w_.final_norm, a_.x, eps);
    o.logits(a_.x, w_.lm_head);
  }

private:
  model_config config_;
  model_weights w_;
  activations a_;
};

} // namespace

std::unique_ptr<architecture> load_dense_decoder(const model_config& config,
                                                 const weight_source& source, ops& backend) {
  return std::make_unique<dense_decoder>(config, source, backend);
}

} // namespace proofmesh::engine
