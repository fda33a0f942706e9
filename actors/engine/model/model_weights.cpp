#include "actors/engine/model/model_weights.hpp"

#include "actors/engine/weights/weight_store.hpp"

#include <string>

namespace proofmesh::engine {

namespace {

struct loader {
  const weight_store& store;

  std::vector<float> operator()(const std::string& name, std::initializer_list<int64_t> shape) const {
    return store.load_f32(name, std::span<const int64_t>(shape.begin(), shape.size()));
  }
};

} // namespace

model_weights load_model_weights(const model_config& c, const weight_store& store) {
  loader load{store};
  const int64_t h = c.hidden_size;
  model_weights w;
  w.embed = load("model.embed_tokens.weight", {c.vocab_size, h});
  w.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    layer_weights& l = w.layers[static_cast<size_t>(i)];
    l.input_norm = load(p + "input_layernorm.weight", {h});
    l.wq = load(p + "self_attn.q_proj.weight", {c.q_dim(), h});
    l.wk = load(p + "self_attn.k_proj.weight", {c.kv_dim(), h});
    l.wv = load(p + "self_attn.v_proj.weight", {c.kv_dim(), h});
    if (c.qkv_bias) {
      l.bq = load(p + "self_attn.q_proj.bias", {c.q_dim()});
      l.bk = load(p + "self_attn.k_proj.bias", {c.kv_dim()});
      l.bv = load(p + "self_attn.v_proj.bias", {c.kv_dim()});
    }
    if (c.qk_norm) {
      l.q_norm = load(p + "self_attn.q_norm.weight", {c.head_dim});
      l.k_norm = load(p + "self_attn.k_norm.weight", {c.head_dim});
    }
    l.wo = load(p + "self_attn.o_proj.weight", {h, c.q_dim()});
    if (c.o_bias) {
      l.bo = load(p + "self_attn.o_proj.bias", {h});
    }
    l.post_norm = load(p + "post_attention_layernorm.weight", {h});
    l.w_gate = load(p + "mlp.gate_proj.weight", {c.intermediate_size, h});
    l.w_up = load(p + "mlp.up_proj.weight", {c.intermediate_size, h});
    l.w_down = load(p + "mlp.down_proj.weight", {h, c.intermediate_size});
  }
  w.final_norm = load("model.norm.weight", {h});
  // A tied checkpoint may still carry lm_head.weight; the config decides which one is used.
  if (!c.tie_word_embeddings) {
    w.lm_head = load("lm_head.weight", {c.vocab_size, h});
  }
  return w;
}

} // namespace proofmesh::engine
