// The model's shape and switches, read from a Hugging Face config.json.
// Rules of the road: one struct for Llama, Qwen2 and Qwen3, which differ only in switches (QKV bias,
// QK-norm, explicit head_dim, tied embeddings). Anything we do not implement is refused with an
// input_error that names the field, never silently ignored: a wrong model is worse than none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

enum class model_arch : uint8_t { model_arch_llama, model_arch_qwen2, model_arch_qwen3 };

std::string_view model_arch_name(model_arch arch); // "llama", "qwen2", "qwen3"

enum class rope_kind : uint8_t { rope_kind_default, rope_kind_llama3 };

struct rope_config {
  rope_kind kind = rope_kind::rope_kind_default;
  double theta = 10000.0;
  // llama3 scaling only
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct model_config {
  model_arch arch = model_arch::model_arch_llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;           // dim
  int64_t intermediate_size = 0;     // MLP hidden dim
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;   // GQA groups; equals heads for MHA
  int64_t head_dim = 0;              // explicit in Qwen3, else hidden_size / heads
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  rope_config rope;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;             // Qwen2 always; Llama/Qwen3 when attention_bias
  bool o_bias = false;               // Llama/Qwen3 attention_bias also biases o_proj
  bool qk_norm = false;              // Qwen3: RMSNorm over each head of q and k
  std::vector<int64_t> bos_token_ids;
  std::vector<int64_t> eos_token_ids;
  std::string torch_dtype;           // as written: "bfloat16", "float32", ...

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
};

/// Parses config.json text. `source` names the file in error messages.
model_config parse_model_config(std::string_view json_text, std::string_view source);

/// Reads DIR/config.json, and DIR/generation_config.json for extra eos ids when present.
model_config load_model_config(const std::string& model_dir);

/// The config.json text transformers would write for `config` (used by `model init`).
std::string model_config_to_json(const model_config& config);

} // namespace proofmesh::engine
