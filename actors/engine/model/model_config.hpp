// The model's shape and switches, read from a Hugging Face config.json.
// Rules of the road: one struct for every family we run. Llama, Qwen2 and Qwen3 differ only in
// switches (QKV bias, QK-norm, explicit head_dim, tied embeddings); DeepSeek-V3 and V3.2 add their
// own parts (mla, moe, indexer, fp8), which stay empty for the dense families. Anything we do not
// implement is refused with an input_error that names the field, never silently ignored: a wrong
// model is worse than none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

enum class model_arch : uint8_t {
  model_arch_llama,
  model_arch_qwen2,
  model_arch_qwen3,
  model_arch_deepseek_v3,
  model_arch_deepseek_v32,
};

/// "llama", "qwen2", "qwen3", "deepseek_v3", "deepseek_v32": the config's model_type.
std::string_view model_arch_name(model_arch arch);

enum class rope_kind : uint8_t { rope_kind_default, rope_kind_llama3, rope_kind_yarn };

struct rope_config {
  rope_kind kind = rope_kind::rope_kind_default;
  double theta = 10000.0;
  double factor = 1.0;           // llama3 and yarn
  double low_freq_factor = 1.0;  // llama3 only
  double high_freq_factor = 4.0; // llama3 only
  int64_t original_max_position_embeddings = 8192; // llama3 and yarn
  // yarn only
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 0.0;          // 0: absent
  double mscale_all_dim = 0.0;  // 0: absent; scales the softmax by mscale(factor, this)²
  bool truncate = true;         // round the correction range to whole dimensions
  double attention_factor = 1.0; // yarn's scale on cos and sin, derived at parse time
};

/// DeepSeek's multi-head latent attention (MLA).
struct mla_config {
  int64_t q_lora_rank = 0; // 0: a single q_proj (DeepSeek-V2-Lite's layout)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  bool rope_interleave = true; // rope pairs (2i, 2i+1), as DeepSeek's weights are laid out

  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

/// DeepSeekMoE: sigmoid routing, group-limited, with always-on shared experts.
struct moe_config {
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t moe_intermediate_size = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = true;
  std::vector<bool> moe_layers; // [num_hidden_layers]: true where the MLP is the MoE
};

/// DeepSeek-V3.2's lightning indexer (DSA): which keys each query attends to.
struct indexer_config {
  int64_t n_heads = 0; // 0: no indexer, dense attention
  int64_t head_dim = 0;
  int64_t topk = 0;
};

/// DeepSeek's FP8 checkpoints: e4m3 weights with a float32 weight_scale_inv per block.
struct fp8_config {
  int64_t block_rows = 0; // 0: no quantization_config
  int64_t block_cols = 0;

  bool enabled() const { return block_rows > 0; }
};

struct model_config {
  model_arch arch = model_arch::model_arch_llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;           // dim
  int64_t intermediate_size = 0;     // MLP hidden dim (DeepSeek: its dense layers')
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;   // GQA groups; equals heads for MHA (and for MLA)
  int64_t head_dim = 0;              // explicit in Qwen3, else hidden_size / heads; DeepSeek: the rope part
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
  // DeepSeek-V3 and V3.2 only
  mla_config mla;
  moe_config moe;
  indexer_config indexer;
  fp8_config fp8;
  int64_t num_nextn_predict_layers = 0; // MTP layers after the trunk: checked at load, not run

  bool is_deepseek() const {
    return arch == model_arch::model_arch_deepseek_v3 || arch == model_arch::model_arch_deepseek_v32;
  }
  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
};

/// YaRN's magnitude correction, as transformers computes it: 0.1 * mscale * ln(factor) + 1, or 1
/// when factor <= 1.
double yarn_mscale(double factor, double mscale);

/// Parses config.json text. `source` names the file in error messages.
model_config parse_model_config(std::string_view json_text, std::string_view source);

/// Reads DIR/config.json, and DIR/generation_config.json for extra eos ids when present.
model_config load_model_config(const std::string& model_dir);

/// The config.json text transformers would write for `config` (used by `model init`).
std::string model_config_to_json(const model_config& config);

} // namespace proofmesh::engine
