// DeepSeek-V3 and V3.2, written once for every backend (ops.hpp), as transformers 5.17's
// modeling_deepseek_v3.py and modeling_deepseek_v32.py compute them.
// Rules of the road: names and shapes follow DeepSeek's checkpoints (per-expert tensors, as
// save_pretrained writes them too), checked as they load. A linear weight may be e4m3 with a
// float32 scale per block wherever the config has a quantization_config; the weights DeepSeek
// keeps in bf16 (embeddings, lm_head, norms, the router, the indexer's weights_proj) must not be.
// - Attention is MLA. q: q_a_proj -> RMSNorm -> q_b_proj, or one q_proj without q_lora. kv:
//   kv_a_proj_with_mqa gives the latent and a shared rope key; the normed latent and the roped key
//   are what the cache holds (mla_attention). Rope touches only the rope part of each head,
//   interleaved as DeepSeek lays out its weights unless rope_interleave is false.
// - V3.2's lightning indexer picks the keys each query attends to (index_select). Its q comes
//   from the q latent, its k from its own wk and LayerNorm; its rope is rotate-half on the first
//   qk_rope_head_dim dimensions (upstream fixed the reference's interleaved indexer rope, and
//   transformers' port follows the fix: this is that variant).
// - The first layers are dense MLPs; the rest are MoE: routed experts (moe) plus shared experts.
// - The MTP layer after the trunk is checked (every tensor's name and shape) but not loaded.
#include "actors/engine/model/deepseek_decoder.hpp"

#include "actors/engine/weights/fp8_weight.hpp"
#include "actors/engine/weights/weight_source.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace proofmesh::engine {

namespace {

struct attention_weights {
  weight q_a;        // [q_lora, hidden]; empty without q_lora
  weight q_a_norm;   // [q_lora]
  weight q_b;        // [heads * qk_head_dim, q_lora]; or q_proj [heads * qk_head_dim, hidden]
  weight kv_a;       // [kv_lora + rope, hidden]
  weight kv_a_norm;  // [kv_lora]
  weight kv_b;       // [heads * (nope + v), kv_lora]
  weight o;          // [hidden, heads * v]
  // V3.2's indexer; empty in V3
  weight index_q;       // wq_b [index_heads * index_dim, q_lora]
  weight index_k;       // wk [index_dim, hidden]
  weight index_k_norm;  // LayerNorm weight [index_dim]
  weight index_k_bias;  // LayerNorm bias [index_dim]
  weight index_weights; // weights_proj [index_heads, hidden]
};

struct mlp_weights {
  weight gate_up; // [2 * intermediate, hidden]: gate_proj | up_proj (the shared experts in MoE)
  weight down;    // [hidden, intermediate]
  moe_weights routed; // MoE layers only
};

struct layer_weights {
  weight input_norm; // [hidden]
  attention_weights attn;
  weight post_norm;  // [hidden]
  bool moe = false;
  mlp_weights mlp;
};

struct model_weights {
  weight embed;                      // [vocab, hidden]
  std::vector<layer_weights> layers; // [num_hidden_layers]
  weight final_norm;                 // [hidden]
  weight lm_head;                    // [vocab, hidden]; embed when tied
  weight inv_freq;                   // [qk_rope_head_dim / 2] float32 rope frequencies
};

float yarn_rope_scale(const model_config& c) {
  return c.rope.kind == rope_kind::rope_kind_yarn ? static_cast<float>(c.rope.attention_factor)
                                                  : 1.0f;
}

// transformers' yarn_apply_mscale: the softmax scale gains mscale(factor, mscale_all_dim)².
float mla_softmax_scale(const model_config& c) {
  float scale = 1.0f / std::sqrt(static_cast<float>(c.mla.qk_head_dim()));
  if (c.rope.kind != rope_kind::rope_kind_default && c.rope.mscale_all_dim != 0) {
    const auto mscale = static_cast<float>(yarn_mscale(c.rope.factor, c.rope.mscale_all_dim));
    scale = scale * mscale * mscale;
  }
  return scale;
}

// Loads weights into the backend, or (for the MTP layer, which is not run yet) only checks that
// every tensor is there with its shape and returns empty weights.
class weight_loader {
public:
  weight_loader(const model_config& c, const weight_source& source, ops* backend)
      : source_(source), backend_(backend),
        block_{.rows = c.fp8.block_rows, .cols = c.fp8.block_cols} {}

  /// A weight DeepSeek keeps in bf16 (or any 16/32-bit dtype).
  weight plain(const std::string& name, std::vector<int64_t> shape) const {
    const weight_part part{.name = name, .shape = std::move(shape)};
    return load(std::span(&part, 1));
  }
  /// A linear weight: e4m3 with block scales where the checkpoint is FP8.
  weight linear(const std::string& name, std::vector<int64_t> shape) const {
    const weight_part part{.name = name, .shape = std::move(shape), .fp8 = block_};
    return load(std::span(&part, 1));
  }
  /// Linear weights stacked along rows.
  weight stacked(const std::vector<std::pair<std::string, std::vector<int64_t>>>& named) const {
    std::vector<weight_part> parts;
    for (const auto& [name, shape] : named) {
      parts.push_back({.name = name, .shape = shape, .fp8 = block_});
    }
    return load(parts);
  }
  /// A float32 table kept exact (the router's correction bias).
  weight table(const std::string& name, std::vector<int64_t> shape) const {
    std::vector<float> values = fetch_f32(source_, name, shape);
    return backend_ ? backend_->load_table(values) : weight{};
  }

private:
  weight load(std::span<const weight_part> parts) const {
    if (backend_) {
      return backend_->load(source_, parts);
    }
    for (const weight_part& p : parts) {
      const tensor_view& t = source_.fetch(p.name, p.shape);
      if (t.type == dtype::dtype_f8_e4m3) {
        read_fp8_scales(source_, t, p.fp8.rows, p.fp8.cols);
      }
      source_.release(t);
    }
    return {};
  }

  const weight_source& source_;
  ops* backend_;
  fp8_block block_;
};

// The activations of one step; slot numbers are this file's own.
enum slot : int32_t {
  slot_h, slot_x, slot_q_latent, slot_q, slot_kv, slot_attn, slot_o, slot_index_q, slot_index_k,
  slot_index_weights, slot_gate_up, slot_act, slot_shared_gate_up, slot_shared_act, slot_mlp
};

struct activations {
  tensor h;             // [tokens, hidden] the residual stream
  tensor x;             // [tokens, hidden] normed input of a block
  tensor q_latent;      // [tokens, q_lora] q_a_proj's output, normed in place
  tensor q;             // [tokens, heads * qk_head_dim]: per head nope | rope
  tensor kv;            // [tokens, kv_lora + rope]: the normed latent | the roped shared key
  tensor attn;          // [tokens, heads * v]
  tensor o;             // [tokens, hidden]
  tensor index_q;       // [tokens, index_heads * index_dim]
  tensor index_k;       // [tokens, index_dim]
  tensor index_weights; // [tokens, index_heads]
  tensor gate_up;        // [tokens, 2 * intermediate] the dense layers'
  tensor act;            // [tokens, intermediate]
  tensor shared_gate_up; // [tokens, 2 * moe_intermediate * n_shared_experts] the MoE layers'
  tensor shared_act;     // [tokens, moe_intermediate * n_shared_experts]
  tensor mlp;            // [tokens, hidden]
};

class deepseek_decoder final : public architecture {
public:
  deepseek_decoder(const model_config& config, const weight_source& source, ops& backend)
      : config_(config), rope_scale_(yarn_rope_scale(config)),
        softmax_scale_(mla_softmax_scale(config)) {
    const model_config& c = config_;
    const weight_loader load(c, source, &backend);
    w_.embed = load.plain("model.embed_tokens.weight", {c.vocab_size, c.hidden_size});
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      w_.layers.push_back(load_layer(load, i, c.moe.moe_layers[static_cast<size_t>(i)]));
    }
    w_.final_norm = load.plain("model.norm.weight", {c.hidden_size});
    w_.lm_head = c.tie_word_embeddings ? w_.embed
                                       : load.plain("lm_head.weight", {c.vocab_size, c.hidden_size});
    check_mtp_layers(source);
    w_.inv_freq = backend.load_table(kernels::cpu::rope_inv_freq(rope_frequencies(c)));
  }

  const model_config& config() const override { return config_; }

  kv_layout cache_layout() const override {
    const model_config& c = config_;
    return {.num_layers = c.num_hidden_layers, .kv_heads = 1,
            .head_dim = c.mla.kv_lora_rank + c.mla.qk_rope_head_dim, .value_dim = 0,
            .index_dim = c.indexer.head_dim};
  }

  void prepare(ops& o, step_shape shape) override {
    const model_config& c = config_;
    const mla_config& m = c.mla;
    const int64_t n = shape.tokens;
    const int64_t shared = c.moe.moe_intermediate_size * c.moe.n_shared_experts;
    a_ = {.h = o.scratch(slot_h, n, c.hidden_size),
          .x = o.scratch(slot_x, n, c.hidden_size),
          .q_latent = o.scratch(slot_q_latent, n, std::max<int64_t>(m.q_lora_rank, 1)),
          .q = o.scratch(slot_q, n, c.num_attention_heads * m.qk_head_dim()),
          .kv = o.scratch(slot_kv, n, m.kv_lora_rank + m.qk_rope_head_dim),
          .attn = o.scratch(slot_attn, n, c.num_attention_heads * m.v_head_dim),
          .o = o.scratch(slot_o, n, c.hidden_size),
          .index_q = o.scratch(slot_index_q, n, std::max<int64_t>(c.indexer.n_heads * c.indexer.head_dim, 1)),
          .index_k = o.scratch(slot_index_k, n, std::max<int64_t>(c.indexer.head_dim, 1)),
          .index_weights = o.scratch(slot_index_weights, n, std::max<int64_t>(c.indexer.n_heads, 1)),
          .gate_up = o.scratch(slot_gate_up, n, 2 * c.intermediate_size),
          .act = o.scratch(slot_act, n, c.intermediate_size),
          .shared_gate_up = o.scratch(slot_shared_gate_up, n, 2 * shared),
          .shared_act = o.scratch(slot_shared_act, n, shared),
          .mlp = o.scratch(slot_mlp, n, c.hidden_size)};
  }

  // The forward pass, top to bottom.
  void forward(ops& o) override {
    const model_config& c = config_;
    const auto eps = static_cast<float>(c.rms_norm_eps);
    o.embed(w_.embed, a_.h);
    for (size_t li = 0; li < w_.layers.size(); ++li) {
      const layer_weights& lw = w_.layers[li];
      // Attention block: h += mlp (of the layer before); x = norm(h); MLA.
      o.rms_norm(a_.h, li == 0 ? nullptr : &a_.mlp, lw.input_norm, a_.x, eps);
      attention(o, static_cast<int64_t>(li), lw.attn);
      // MLP block: h += o; x = norm(h); the dense MLP, or shared experts plus routed ones.
      o.rms_norm(a_.h, &a_.o, lw.post_norm, a_.x, eps);
      mlp(o, lw);
    }
    // h += mlp; x = final_norm(h); float32 logits of the wanted rows.
    o.rms_norm(a_.h, &a_.mlp, w_.final_norm, a_.x, eps);
    o.logits(a_.x, w_.lm_head);
  }

private:
  layer_weights load_layer(const weight_loader& load, int64_t index, bool moe) const {
    const model_config& c = config_;
    const mla_config& m = c.mla;
    const int64_t h = c.hidden_size, heads = c.num_attention_heads;
    const std::string p = "model.layers." + std::to_string(index) + ".";
    const std::string a = p + "self_attn.";
    layer_weights l;
    l.input_norm = load.plain(p + "input_layernorm.weight", {h});
    if (m.q_lora_rank > 0) {
      l.attn.q_a = load.linear(a + "q_a_proj.weight", {m.q_lora_rank, h});
      l.attn.q_a_norm = load.plain(a + "q_a_layernorm.weight", {m.q_lora_rank});
      l.attn.q_b = load.linear(a + "q_b_proj.weight", {heads * m.qk_head_dim(), m.q_lora_rank});
    } else {
      l.attn.q_b = load.linear(a + "q_proj.weight", {heads * m.qk_head_dim(), h});
    }
    l.attn.kv_a = load.linear(a + "kv_a_proj_with_mqa.weight", {m.kv_lora_rank + m.qk_rope_head_dim, h});
    l.attn.kv_a_norm = load.plain(a + "kv_a_layernorm.weight", {m.kv_lora_rank});
    l.attn.kv_b = load.linear(a + "kv_b_proj.weight",
                              {heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank});
    l.attn.o = load.linear(a + "o_proj.weight", {h, heads * m.v_head_dim});
    if (c.indexer.n_heads > 0) {
      const indexer_config& x = c.indexer;
      const std::string ix = a + "indexer.";
      l.attn.index_q = load.linear(ix + "wq_b.weight", {x.n_heads * x.head_dim, m.q_lora_rank});
      l.attn.index_k = load.linear(ix + "wk.weight", {x.head_dim, h});
      l.attn.index_k_norm = load.plain(ix + "k_norm.weight", {x.head_dim});
      l.attn.index_k_bias = load.plain(ix + "k_norm.bias", {x.head_dim});
      l.attn.index_weights = load.plain(ix + "weights_proj.weight", {x.n_heads, h});
    }
    l.post_norm = load.plain(p + "post_attention_layernorm.weight", {h});
    l.moe = moe;
    if (!moe) {
      l.mlp.gate_up = load.stacked({{p + "mlp.gate_proj.weight", {c.intermediate_size, h}},
                                    {p + "mlp.up_proj.weight", {c.intermediate_size, h}}});
      l.mlp.down = load.linear(p + "mlp.down_proj.weight", {h, c.intermediate_size});
      return l;
    }
    const moe_config& e = c.moe;
    const int64_t shared = e.moe_intermediate_size * e.n_shared_experts;
    const std::string s = p + "mlp.shared_experts.";
    l.mlp.gate_up = load.stacked({{s + "gate_proj.weight", {shared, h}},
                                  {s + "up_proj.weight", {shared, h}}});
    l.mlp.down = load.linear(s + "down_proj.weight", {h, shared});
    l.mlp.routed.router = load.plain(p + "mlp.gate.weight", {e.n_routed_experts, h});
    l.mlp.routed.correction_bias = load.table(p + "mlp.gate.e_score_correction_bias", {e.n_routed_experts});
    std::vector<std::pair<std::string, std::vector<int64_t>>> gate_up, down;
    for (int64_t x = 0; x < e.n_routed_experts; ++x) {
      const std::string ex = p + "mlp.experts." + std::to_string(x) + ".";
      gate_up.push_back({ex + "gate_proj.weight", {e.moe_intermediate_size, h}});
      gate_up.push_back({ex + "up_proj.weight", {e.moe_intermediate_size, h}});
      down.push_back({ex + "down_proj.weight", {h, e.moe_intermediate_size}});
    }
    l.mlp.routed.gate_up = load.stacked(gate_up);
    l.mlp.routed.down = load.stacked(down);
    return l;
  }

  // The MTP layers (num_nextn_predict_layers after the trunk) are not run yet. A checkpoint that
  // has one must have all of it with the right shapes; transformers' save_pretrained drops them,
  // so a folder without any is fine.
  void check_mtp_layers(const weight_source& source) const {
    const model_config& c = config_;
    const weight_loader check(c, source, nullptr);
    for (int64_t i = 0; i < c.num_nextn_predict_layers; ++i) {
      const int64_t index = c.num_hidden_layers + i;
      const std::string p = "model.layers." + std::to_string(index) + ".";
      if (!source.contains(p + "eh_proj.weight")) {
        continue;
      }
      load_layer(check, index, true);
      const int64_t h = c.hidden_size;
      check.plain(p + "enorm.weight", {h});
      check.plain(p + "hnorm.weight", {h});
      check.linear(p + "eh_proj.weight", {h, 2 * h});
      check.plain(p + "shared_head.norm.weight", {h});
      if (source.contains(p + "shared_head.head.weight")) {
        check.plain(p + "shared_head.head.weight", {c.vocab_size, h});
      }
      if (source.contains(p + "embed_tokens.weight")) {
        check.plain(p + "embed_tokens.weight", {c.vocab_size, h});
      }
    }
  }

  // MLA, with V3.2's indexer choosing the keys.
  void attention(ops& o, int64_t layer, const attention_weights& w) {
    const model_config& c = config_;
    const mla_config& m = c.mla;
    const auto eps = static_cast<float>(c.rms_norm_eps);
    const int64_t heads = c.num_attention_heads;
    // q: per head nope | rope; rope on the rope part.
    if (m.q_lora_rank > 0) {
      o.linear(a_.x, w.q_a, {}, a_.q_latent);
      o.rms_norm(a_.q_latent, nullptr, w.q_a_norm, a_.q_latent, eps);
      o.linear(a_.q_latent, w.q_b, {}, a_.q);
    } else {
      o.linear(a_.x, w.q_b, {}, a_.q);
    }
    o.rope(a_.q.columns(m.qk_nope_head_dim, a_.q.cols - m.qk_nope_head_dim),
           {.heads = heads, .head_stride = m.qk_head_dim(), .dim = m.qk_rope_head_dim,
            .interleaved = m.rope_interleave, .scale = rope_scale_},
           w_.inv_freq);
    // kv: the latent, normed in place, then the shared rope key, roped in place.
    o.linear(a_.x, w.kv_a, {}, a_.kv);
    tensor latent = a_.kv.columns(0, m.kv_lora_rank);
    o.rms_norm(latent, nullptr, w.kv_a_norm, latent, eps);
    o.rope(a_.kv.columns(m.kv_lora_rank, m.qk_rope_head_dim),
           {.heads = 1, .head_stride = m.qk_rope_head_dim, .dim = m.qk_rope_head_dim,
            .interleaved = m.rope_interleave, .scale = rope_scale_},
           w_.inv_freq);
    const bool sparse = c.indexer.n_heads > 0;
    if (sparse) {
      indexer(o, layer, w);
    }
    o.mla_attention(layer, a_.q, a_.kv, w.kv_b, a_.attn,
                    {.heads = heads, .nope_dim = m.qk_nope_head_dim, .rope_dim = m.qk_rope_head_dim,
                     .v_dim = m.v_head_dim, .latent_dim = m.kv_lora_rank,
                     .scale = softmax_scale_,
                     .sparse = sparse});
    o.linear(a_.attn, w.o, {}, a_.o);
  }

  // The lightning indexer: q from the q latent, k from x through wk and a LayerNorm, both roped
  // rotate-half on their first qk_rope_head_dim dimensions; weights from x.
  void indexer(ops& o, int64_t layer, const attention_weights& w) {
    const model_config& c = config_;
    const indexer_config& x = c.indexer;
    const int64_t rope = c.mla.qk_rope_head_dim;
    o.linear(a_.q_latent, w.index_q, {}, a_.index_q);
    o.rope(a_.index_q, {.heads = x.n_heads, .head_stride = x.head_dim, .dim = rope, .scale = rope_scale_},
           w_.inv_freq);
    o.linear(a_.x, w.index_k, {}, a_.index_k);
    o.layer_norm(a_.index_k, w.index_k_norm, w.index_k_bias, a_.index_k, 1e-6f);
    o.rope(a_.index_k, {.heads = 1, .head_stride = x.head_dim, .dim = rope, .scale = rope_scale_},
           w_.inv_freq);
    o.linear(a_.x, w.index_weights, {}, a_.index_weights);
    o.index_select(layer, a_.index_q, a_.index_k, a_.index_weights,
                   {.heads = x.n_heads, .head_dim = x.head_dim, .topk = x.topk,
                    .scale = 1.0f / std::sqrt(static_cast<float>(x.head_dim)),
                    .weight_scale = 1.0f / std::sqrt(static_cast<float>(x.n_heads))});
  }

  void mlp(ops& o, const layer_weights& lw) {
    const model_config& c = config_;
    // The dense MLP, or the shared experts: down(silu(gate(x)) * up(x)).
    const tensor gate_up = lw.moe ? a_.shared_gate_up : a_.gate_up;
    const tensor act = lw.moe ? a_.shared_act : a_.act;
    o.mlp_activation(a_.x, lw.mlp.gate_up, gate_up, act);
    o.linear(act, lw.mlp.down, {}, a_.mlp);
    if (lw.moe) {
      const moe_config& e = c.moe;
      o.moe(a_.x, lw.mlp.routed,
            {.experts = e.n_routed_experts, .per_token = e.num_experts_per_tok,
             .groups = e.n_group, .groups_kept = e.topk_group,
             .intermediate = e.moe_intermediate_size,
             .scaling = static_cast<float>(e.routed_scaling_factor), .normalize = e.norm_topk_prob},
            a_.mlp);
    }
  }

  model_config config_;
  float rope_scale_;    // YaRN's attention factor on cos and sin; 1 otherwise
  float softmax_scale_; // (qk_nope + qk_rope)^-0.5, times YaRN's mscale²
  model_weights w_;
  activations a_;
};

} // namespace

std::unique_ptr<architecture> load_deepseek_decoder(const model_config& config,
                                                    const weight_source& source, ops& backend) {
  return std::make_unique<deepseek_decoder>(config, source, backend);
}

} // namespace proofmesh::engine
