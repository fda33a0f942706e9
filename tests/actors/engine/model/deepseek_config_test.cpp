// DeepSeek configs as DeepSeek ships them (the old rope_scaling spelling, FP8, MTP) and as
// transformers 5 writes them, and the refusals that name the field at fault.
#include "actors/engine/model/model_config.hpp"

#include "actors/common/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace proofmesh::engine {
namespace {

// DeepSeek-V3.2-Exp's config.json, as its repository has it (the fields we read).
const std::string v32_exp = R"({
  "architectures": ["DeepseekV32ForCausalLM"], "model_type": "deepseek_v32",
  "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432,
  "moe_intermediate_size": 2048, "num_hidden_layers": 61, "num_nextn_predict_layers": 1,
  "num_attention_heads": 128, "num_key_value_heads": 128, "n_shared_experts": 1,
  "n_routed_experts": 256, "routed_scaling_factor": 2.5, "kv_lora_rank": 512,
  "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128, "qk_nope_head_dim": 128,
  "topk_method": "noaux_tc", "n_group": 8, "topk_group": 4, "num_experts_per_tok": 8,
  "moe_layer_freq": 1, "first_k_dense_replace": 3, "norm_topk_prob": true,
  "scoring_func": "sigmoid", "hidden_act": "silu", "max_position_embeddings": 163840,
  "rms_norm_eps": 1e-06, "tie_word_embeddings": false, "rope_theta": 10000,
  "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0,
                   "mscale_all_dim": 1.0, "original_max_position_embeddings": 4096,
                   "type": "yarn"},
  "attention_bias": false, "bos_token_id": 0, "eos_token_id": 1, "torch_dtype": "bfloat16",
  "index_head_dim": 128, "index_n_heads": 64, "index_topk": 2048,
  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                          "weight_block_size": [128, 128], "scale_fmt": "ue8m0"}})";

model_config parse(const std::string& text) { return parse_model_config(text, "config.json"); }

std::string edited(const std::string& from, const std::string& to) {
  std::string text = v32_exp;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

void expect_error(const std::string& json, const std::string& needle) {
  try {
    parse(json);
    FAIL() << "expected an error mentioning " << needle;
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(deepseek_config, reads_deepseek_v32_exp_as_shipped) {
  const model_config c = parse(v32_exp);
  EXPECT_EQ(c.arch, model_arch::model_arch_deepseek_v32);
  EXPECT_EQ(c.head_dim, 64); // the rope part of a head, as transformers sets it
  EXPECT_EQ(c.mla.q_lora_rank, 1536);
  EXPECT_EQ(c.mla.kv_lora_rank, 512);
  EXPECT_EQ(c.mla.qk_head_dim(), 192);
  EXPECT_TRUE(c.mla.rope_interleave);
  EXPECT_EQ(c.moe.n_routed_experts, 256);
  EXPECT_EQ(c.moe.num_experts_per_tok, 8);
  EXPECT_EQ(c.moe.n_group, 8);
  EXPECT_EQ(c.moe.topk_group, 4);
  ASSERT_EQ(c.moe.moe_layers.size(), 61u);
  EXPECT_FALSE(c.moe.moe_layers[2]);
  EXPECT_TRUE(c.moe.moe_layers[3]);
  EXPECT_EQ(c.indexer.n_heads, 64);
  EXPECT_EQ(c.indexer.topk, 2048);
  EXPECT_EQ(c.fp8.block_rows, 128);
  EXPECT_EQ(c.fp8.block_cols, 128);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_EQ(c.rope.kind, rope_kind::rope_kind_yarn);
  EXPECT_DOUBLE_EQ(c.rope.factor, 40);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 4096);
  // mscale == mscale_all_dim: cos and sin unscaled; the softmax gains (0.1 ln 40 + 1)^2.
  EXPECT_DOUBLE_EQ(c.rope.attention_factor, 1.0);
  EXPECT_NEAR(yarn_mscale(40, 1.0), 0.1 * std::log(40.0) + 1, 1e-12);
}

TEST(deepseek_config, writes_what_it_reads) {
  const model_config c = parse(edited(R"("quantization_config")", R"("unused")"));
  const model_config back = parse(model_config_to_json(c));
  EXPECT_EQ(back.arch, c.arch);
  EXPECT_EQ(back.mla.q_lora_rank, c.mla.q_lora_rank);
  EXPECT_EQ(back.moe.moe_layers, c.moe.moe_layers);
  EXPECT_EQ(back.indexer.topk, c.indexer.topk);
  EXPECT_EQ(back.rope.kind, rope_kind::rope_kind_yarn);
  EXPECT_DOUBLE_EQ(back.rope.mscale_all_dim, 1.0);
  EXPECT_EQ(back.num_nextn_predict_layers, 1);
}

TEST(deepseek_config, refuses_what_we_do_not_implement_by_field_name) {
  expect_error(edited(R"("quant_method": "fp8")", R"("quant_method": "gptq")"), "quant_method");
  expect_error(edited(R"("fmt": "e4m3")", R"("fmt": "e5m2")"), "quantization_config.fmt");
  expect_error(edited(R"("scale_fmt": "ue8m0")", R"("scale_fmt": "mx")"), "scale_fmt");
  expect_error(edited(R"("weight_block_size": [128, 128])", R"("weight_block_size": [128, 0])"),
               "weight_block_size");
  expect_error(edited(R"("scoring_func": "sigmoid")", R"("scoring_func": "softmax")"),
               "scoring_func");
  expect_error(edited(R"("topk_group": 4)", R"("topk_group": 9)"), "topk_group");
  expect_error(edited(R"("n_group": 8)", R"("n_group": 256)"), "n_group");
  expect_error(edited(R"("q_lora_rank": 1536)", R"("q_lora_rank": null)"), "q_lora_rank");
  expect_error(edited(R"("num_key_value_heads": 128)", R"("num_key_value_heads": 1)"),
               "num_key_value_heads");
  expect_error(edited(R"("attention_bias": false)", R"("attention_bias": true)"), "attention_bias");
  expect_error(edited(R"("qk_rope_head_dim": 64)", R"("qk_rope_head_dim": 63)"),
               "qk_rope_head_dim");
  expect_error(edited(R"("type": "yarn")", R"("type": "longrope")"), "rope_type");
  expect_error(edited(R"("factor": 40)", R"("factor": 0.5)"), "factor");
  expect_error(edited(R"("index_topk": 2048)", R"("index_topk": 0)"), "index_topk");
  expect_error(edited(R"("moe_layer_freq": 1)", R"("moe_layer_freq": 2)"), "moe_layer_freq");
}

} // namespace
} // namespace proofmesh::engine
