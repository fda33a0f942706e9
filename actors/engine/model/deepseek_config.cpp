#include "actors/engine/model/deepseek_config.hpp"

#include <algorithm>

namespace proofmesh::engine {

namespace {

using namespace config_json;

void parse_mla(const reader& r, model_config& c) {
  mla_config& m = c.mla;
  if (r.has("q_lora_rank")) {
    m.q_lora_rank = r.integer("q_lora_rank", 1, max_dim);
  } else if (c.arch == model_arch::model_arch_deepseek_v32) {
    r.fail("q_lora_rank", "must be set for deepseek_v32: its indexer reads the q latent");
  }
  m.kv_lora_rank = r.integer("kv_lora_rank", 1, max_dim);
  m.qk_nope_head_dim = r.integer("qk_nope_head_dim", 1, 1024);
  m.qk_rope_head_dim = r.integer("qk_rope_head_dim", 2, 1024);
  m.v_head_dim = r.integer("v_head_dim", 1, 1024);
  if (m.qk_rope_head_dim % 2 != 0) {
    r.fail("qk_rope_head_dim", "must be even for rotary embeddings");
  }
  // transformers' DeepseekV32Attention always interleaves; a V3.2 file saying otherwise is not
  // one we can follow faithfully either way.
  m.rope_interleave = r.boolean_or("rope_interleave", true);
  if (!m.rope_interleave && c.arch == model_arch::model_arch_deepseek_v32) {
    r.fail("rope_interleave", "false is not supported for deepseek_v32 (its attention interleaves)");
  }
  if (c.num_key_value_heads != c.num_attention_heads) {
    r.fail("num_key_value_heads", "must equal num_attention_heads for MLA");
  }
  // The rotary embedding reads head_dim; transformers points it at the rope part of a head.
  c.head_dim = m.qk_rope_head_dim;
}

void parse_moe(const reader& r, model_config& c) {
  moe_config& m = c.moe;
  if (r.string_or("scoring_func", "sigmoid") != "sigmoid") {
    r.fail("scoring_func", "\"" + r.string_or("scoring_func", "") + "\" is not supported (sigmoid)");
  }
  if (r.string_or("topk_method", "noaux_tc") != "noaux_tc") {
    r.fail("topk_method", "\"" + r.string_or("topk_method", "") + "\" is not supported (noaux_tc)");
  }
  if (r.integer_or("moe_layer_freq", 1, 1, max_layers) != 1) {
    r.fail("moe_layer_freq", "must be 1");
  }
  m.n_routed_experts = r.integer("n_routed_experts", 1, 4096);
  m.n_shared_experts = r.integer_or("n_shared_experts", 0, 0, 64);
  m.moe_intermediate_size = r.integer("moe_intermediate_size", 1, 4 * max_dim);
  m.num_experts_per_tok = r.integer("num_experts_per_tok", 1, m.n_routed_experts);
  m.n_group = r.integer_or("n_group", 1, 1, m.n_routed_experts);
  m.topk_group = r.integer_or("topk_group", 1, 1, m.n_group);
  if (m.n_routed_experts % m.n_group != 0) {
    r.fail("n_group", "must divide n_routed_experts");
  }
  const int64_t per_group = m.n_routed_experts / m.n_group;
  if (per_group < 2) {
    r.fail("n_group", "must leave at least 2 experts per group (a group scores by its top 2)");
  }
  if (m.topk_group * per_group < m.num_experts_per_tok) {
    r.fail("topk_group", "keeps fewer experts than num_experts_per_tok");
  }
  m.routed_scaling_factor = r.number_or(r.j, "routed_scaling_factor", 1.0);
  if (!(m.routed_scaling_factor > 0 && m.routed_scaling_factor <= 1000)) {
    r.fail("routed_scaling_factor", "must be in (0, 1000]");
  }
  m.norm_topk_prob = r.boolean_or("norm_topk_prob", true);

  // V3 reads first_k_dense_replace; V3.2 reads mlp_layer_types, derived from it when absent.
  const int64_t dense = r.integer_or("first_k_dense_replace", 0, 0, c.num_hidden_layers);
  m.moe_layers.assign(static_cast<size_t>(c.num_hidden_layers), false);
  for (int64_t i = dense; i < c.num_hidden_layers; ++i) {
    m.moe_layers[static_cast<size_t>(i)] = true;
  }
  if (c.arch == model_arch::model_arch_deepseek_v32 && r.has("mlp_layer_types")) {
    const json& types = r.j.at("mlp_layer_types");
    if (!types.is_array() || static_cast<int64_t>(types.size()) != c.num_hidden_layers) {
      r.fail("mlp_layer_types", "must list one type per layer");
    }
    for (size_t i = 0; i < types.size(); ++i) {
      if (!types[i].is_string() ||
          (types[i].get<std::string>() != "dense" && types[i].get<std::string>() != "sparse")) {
        r.fail("mlp_layer_types", "may only hold \"dense\" and \"sparse\"");
      }
      m.moe_layers[i] = types[i].get<std::string>() == "sparse";
    }
  }
}

void parse_indexer(const reader& r, model_config& c) {
  if (c.arch != model_arch::model_arch_deepseek_v32) {
    return;
  }
  indexer_config& x = c.indexer;
  x.n_heads = r.integer("index_n_heads", 1, max_heads);
  x.head_dim = r.integer("index_head_dim", c.mla.qk_rope_head_dim, 1024);
  x.topk = r.integer("index_topk", 1, 1 << 24);
}

// DeepSeek's FP8 layout: {quant_method: fp8, fmt: e4m3, weight_block_size: [rows, cols]}. The
// scale format only changes how DeepSeek's kernels round activation scales; the checkpoint's
// weight_scale_inv tensors are float32 either way (the loader checks), so both are read.
void parse_fp8(const reader& r, model_config& c) {
  if (!r.has("quantization_config")) {
    return;
  }
  const json& q = r.j.at("quantization_config");
  if (!q.is_object()) {
    r.fail("quantization_config", "must be an object");
  }
  const reader qr{q, r.source};
  const std::string method = qr.string_or("quant_method", "");
  if (method != "fp8") {
    r.fail("quantization_config.quant_method",
           method.empty() ? "is missing" : "\"" + method + "\" is not supported (fp8)");
  }
  if (qr.string_or("fmt", "e4m3") != "e4m3") {
    r.fail("quantization_config.fmt", "\"" + qr.string_or("fmt", "") + "\" is not supported (e4m3)");
  }
  if (qr.string_or("activation_scheme", "dynamic") != "dynamic") {
    r.fail("quantization_config.activation_scheme", "must be \"dynamic\"");
  }
  const std::string scale_fmt = qr.string_or("scale_fmt", "");
  if (!scale_fmt.empty() && scale_fmt != "ue8m0") {
    r.fail("quantization_config.scale_fmt", "\"" + scale_fmt + "\" is not supported (ue8m0)");
  }
  if (!qr.has("weight_block_size") || !q.at("weight_block_size").is_array() ||
      q.at("weight_block_size").size() != 2) {
    r.fail("quantization_config.weight_block_size", "must be [rows, cols]");
  }
  const json& block = q.at("weight_block_size");
  c.fp8.block_rows = qr.bounded(block[0], "quantization_config.weight_block_size", 1, 4096);
  c.fp8.block_cols = qr.bounded(block[1], "quantization_config.weight_block_size", 1, 4096);
}

} // namespace

void parse_deepseek(const reader& r, model_config& c) {
  parse_mla(r, c);
  parse_moe(r, c);
  parse_indexer(r, c);
  parse_fp8(r, c);
  c.num_nextn_predict_layers = r.integer_or("num_nextn_predict_layers", 0, 0, 8);
}

void write_deepseek_fields(const model_config& c, json& j) {
  j["moe_intermediate_size"] = c.moe.moe_intermediate_size;
  j["q_lora_rank"] = c.mla.q_lora_rank > 0 ? json(c.mla.q_lora_rank) : json(nullptr);
  j["kv_lora_rank"] = c.mla.kv_lora_rank;
  j["qk_nope_head_dim"] = c.mla.qk_nope_head_dim;
  j["qk_rope_head_dim"] = c.mla.qk_rope_head_dim;
  j["v_head_dim"] = c.mla.v_head_dim;
  j["n_routed_experts"] = c.moe.n_routed_experts;
  j["n_shared_experts"] = c.moe.n_shared_experts;
  j["num_experts_per_tok"] = c.moe.num_experts_per_tok;
  j["n_group"] = c.moe.n_group;
  j["topk_group"] = c.moe.topk_group;
  j["routed_scaling_factor"] = c.moe.routed_scaling_factor;
  j["norm_topk_prob"] = c.moe.norm_topk_prob;
  const auto dense = std::find(c.moe.moe_layers.begin(), c.moe.moe_layers.end(), true) -
                     c.moe.moe_layers.begin();
  j["first_k_dense_replace"] = dense;
  if (c.arch == model_arch::model_arch_deepseek_v32) {
    j["index_n_heads"] = c.indexer.n_heads;
    j["index_head_dim"] = c.indexer.head_dim;
    j["index_topk"] = c.indexer.topk;
  } else {
    j["rope_interleave"] = c.mla.rope_interleave;
  }
  j["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
}

} // namespace proofmesh::engine
