#include "actors/engine/model/model_config.hpp"

#include "actors/common/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace proofmesh::engine {
namespace {

std::string with(const std::string& extra) {
  return R"({"model_type": "llama", "vocab_size": 100, "hidden_size": 64,
             "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4)" +
         extra + "}";
}

void expect_error(const std::string& json, const std::string& needle) {
  try {
    parse_model_config(json, "config.json");
    FAIL() << "expected an error mentioning " << needle;
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(model_config, llama_defaults) {
  auto c = parse_model_config(with(""), "config.json");
  EXPECT_EQ(c.arch, model_arch::model_arch_llama);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.rope.kind, rope_kind::rope_kind_default);
  EXPECT_DOUBLE_EQ(c.rope.theta, 10000.0);
}

TEST(model_config, legacy_rope_theta_and_rope_scaling) {
  auto c = parse_model_config(
      with(R"(, "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 32.0,
           "low_freq_factor": 1.0, "high_freq_factor": 4.0,
           "original_max_position_embeddings": 8192}, "eos_token_id": [1, 2])"),
      "config.json");
  EXPECT_EQ(c.rope.kind, rope_kind::rope_kind_llama3);
  EXPECT_DOUBLE_EQ(c.rope.theta, 500000.0);
  EXPECT_DOUBLE_EQ(c.rope.factor, 32.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 2}));
}

TEST(model_config, transformers5_rope_parameters) {
  auto c = parse_model_config(
      with(R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0})"),
      "config.json");
  EXPECT_EQ(c.rope.kind, rope_kind::rope_kind_default);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1000000.0);
}

TEST(model_config, qwen2_has_qkv_bias_and_qwen3_has_qk_norm_and_head_dim) {
  std::string base = R"({"vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2)";
  auto q2 = parse_model_config(base + R"(, "model_type": "qwen2"})", "c");
  EXPECT_TRUE(q2.qkv_bias);
  EXPECT_FALSE(q2.o_bias);
  auto q3 = parse_model_config(base + R"(, "model_type": "qwen3", "head_dim": 32})", "c");
  EXPECT_TRUE(q3.qk_norm);
  EXPECT_FALSE(q3.qkv_bias);
  EXPECT_EQ(q3.head_dim, 32);
  EXPECT_EQ(q3.q_dim(), 128);
  EXPECT_EQ(q3.kv_dim(), 64);
}

TEST(model_config, refuses_what_we_do_not_implement_by_field_name) {
  expect_error(R"({"model_type": "mistral"})", "model_type");
  expect_error(with(R"(, "hidden_act": "gelu")"), "hidden_act");
  expect_error(with(R"(, "mlp_bias": true)"), "mlp_bias");
  expect_error(with(R"(, "rope_scaling": {"rope_type": "yarn", "factor": 4.0})"), "rope_type");
  expect_error(with(R"(, "num_key_value_heads": 3)"), "num_key_value_heads");
  expect_error(with(R"(, "use_sliding_window": true)"), "use_sliding_window");
  expect_error(R"({"model_type": "llama", "vocab_size": "many"})", "vocab_size");
  expect_error(with(R"(, "rms_norm_eps": -1)"), "rms_norm_eps");
  expect_error(R"({"model_type": "llama", "vocab_size": 18446744073709551615})", "vocab_size");
  expect_error("[1, 2]", "not a JSON object");
  expect_error("{", "not a JSON object");
}

TEST(model_config, writes_what_it_reads) {
  auto c = parse_model_config(
      with(R"(, "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
           "low_freq_factor": 1.0, "high_freq_factor": 4.0,
           "original_max_position_embeddings": 8192}, "tie_word_embeddings": true,
           "eos_token_id": 7, "bos_token_id": 3)"),
      "c");
  auto back = parse_model_config(model_config_to_json(c), "c");
  EXPECT_EQ(back.rope.kind, rope_kind::rope_kind_llama3);
  EXPECT_DOUBLE_EQ(back.rope.factor, 8.0);
  EXPECT_TRUE(back.tie_word_embeddings);
  EXPECT_EQ(back.eos_token_ids, (std::vector<int64_t>{7}));
  EXPECT_EQ(back.bos_token_ids, (std::vector<int64_t>{3}));
  EXPECT_EQ(back.hidden_size, 64);
}

} // namespace
} // namespace proofmesh::engine
