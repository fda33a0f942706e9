#include "actors/engine/model/model_init.hpp"

#include "actors/common/error.hpp"
#include "actors/common/splitmix64.hpp"
#include "actors/engine/chat/chat_format.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/tokenizer/tokenizer_trainer.hpp"
#include "actors/engine/tokenizer/utf8.hpp"
#include "actors/engine/weights/half_precision.hpp"
#include "actors/engine/weights/safetensors_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

namespace proofmesh::engine {

namespace {

// Deterministic uniform draws: splitmix64 over a counter.
class uniform_source {
public:
  explicit uniform_source(uint64_t seed) : state_(seed) {}
  float next(float half_width) {
    uint64_t z = splitmix64(state_);
    state_ += 0x9e3779b97f4a7c15ULL; // splitmix64's increment: the next counter value
    double u = static_cast<double>(z >> 11) * 0x1.0p-53; // [0, 1)
    return static_cast<float>((2.0 * u - 1.0) * half_width);
  }

private:
  uint64_t state_;
};

struct family_tokens {
  tokenizer_family family;
  chat_format format;
  std::vector<std::string> specials;
  std::optional<std::string> bos;
  std::vector<std::string> eos;
};

family_tokens tokens_for(model_arch arch) {
  if (arch == model_arch::model_arch_deepseek_v3 || arch == model_arch::model_arch_deepseek_v32) {
    return {tokenizer_family::deepseek_v3,
            arch == model_arch::model_arch_deepseek_v32 ? chat_format::chat_format_deepseek_v32
                                                        : chat_format::chat_format_deepseek_v3,
            {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
             "<think>", "</think>"},
            "<｜begin▁of▁sentence｜>",
            {"<｜end▁of▁sentence｜>"}};
  }
  if (arch == model_arch::model_arch_llama) {
    return {tokenizer_family::llama3,
            chat_format::chat_format_llama3,
            {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
             "<|eot_id|>"},
            "<|begin_of_text|>",
            {"<|end_of_text|>", "<|eot_id|>"}};
  }
  return {tokenizer_family::qwen2,
          chat_format::chat_format_chatml,
          {"<|endoftext|>", "<|im_start|>", "<|im_end|>"},
          std::nullopt,
          {"<|im_end|>", "<|endoftext|>"}};
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    throw input_error(path.string() + ": cannot write");
  }
}

struct tensor_buffer {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// add(name, shape, half_width, center): one tensor of uniform draws. The order of the calls is
// the order of the draws, so it never changes for a family that has golden data.
using tensor_adder =
    std::function<void(std::string, std::vector<int64_t>, float width, float center)>;

void add_dense_layer(const model_config& c, const std::string& p, const tensor_adder& add) {
  const int64_t h = c.hidden_size;
  add(p + "self_attn.q_proj.weight", {c.q_dim(), h}, 0.1f, 0.0f);
  add(p + "self_attn.k_proj.weight", {c.kv_dim(), h}, 0.1f, 0.0f);
  add(p + "self_attn.v_proj.weight", {c.kv_dim(), h}, 0.1f, 0.0f);
  if (c.qkv_bias) {
    add(p + "self_attn.q_proj.bias", {c.q_dim()}, 0.05f, 0.0f);
    add(p + "self_attn.k_proj.bias", {c.kv_dim()}, 0.05f, 0.0f);
    add(p + "self_attn.v_proj.bias", {c.kv_dim()}, 0.05f, 0.0f);
  }
  if (c.qk_norm) {
    add(p + "self_attn.q_norm.weight", {c.head_dim}, 0.1f, 1.0f);
    add(p + "self_attn.k_norm.weight", {c.head_dim}, 0.1f, 1.0f);
  }
  add(p + "self_attn.o_proj.weight", {h, c.q_dim()}, 0.1f, 0.0f);
  add(p + "post_attention_layernorm.weight", {h}, 0.1f, 1.0f);
  add(p + "mlp.gate_proj.weight", {c.intermediate_size, h}, 0.1f, 0.0f);
  add(p + "mlp.up_proj.weight", {c.intermediate_size, h}, 0.1f, 0.0f);
  add(p + "mlp.down_proj.weight", {h, c.intermediate_size}, 0.1f, 0.0f);
}

// DeepSeek's checkpoint names (deepseek_decoder.cpp), per-expert as DeepSeek ships them.
void add_deepseek_layer(const model_config& c, bool moe, const std::string& p,
                        const tensor_adder& add) {
  const int64_t h = c.hidden_size, heads = c.num_attention_heads;
  const mla_config& m = c.mla;
  const std::string a = p + "self_attn.";
  if (m.q_lora_rank > 0) {
    add(a + "q_a_proj.weight", {m.q_lora_rank, h}, 0.1f, 0.0f);
    add(a + "q_a_layernorm.weight", {m.q_lora_rank}, 0.1f, 1.0f);
    add(a + "q_b_proj.weight", {heads * m.qk_head_dim(), m.q_lora_rank}, 0.1f, 0.0f);
  } else {
    add(a + "q_proj.weight", {heads * m.qk_head_dim(), h}, 0.1f, 0.0f);
  }
  add(a + "kv_a_proj_with_mqa.weight", {m.kv_lora_rank + m.qk_rope_head_dim, h}, 0.1f, 0.0f);
  add(a + "kv_a_layernorm.weight", {m.kv_lora_rank}, 0.1f, 1.0f);
  add(a + "kv_b_proj.weight", {heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank},
      0.1f, 0.0f);
  add(a + "o_proj.weight", {h, heads * m.v_head_dim}, 0.1f, 0.0f);
  if (c.indexer.n_heads > 0) {
    const indexer_config& x = c.indexer;
    add(a + "indexer.wq_b.weight", {x.n_heads * x.head_dim, m.q_lora_rank}, 0.1f, 0.0f);
    add(a + "indexer.wk.weight", {x.head_dim, h}, 0.1f, 0.0f);
    add(a + "indexer.k_norm.weight", {x.head_dim}, 0.1f, 1.0f);
    add(a + "indexer.k_norm.bias", {x.head_dim}, 0.1f, 0.0f);
    add(a + "indexer.weights_proj.weight", {x.n_heads, h}, 0.1f, 0.0f);
  }
  add(p + "post_attention_layernorm.weight", {h}, 0.1f, 1.0f);
  if (!moe) {
    add(p + "mlp.gate_proj.weight", {c.intermediate_size, h}, 0.1f, 0.0f);
    add(p + "mlp.up_proj.weight", {c.intermediate_size, h}, 0.1f, 0.0f);
    add(p + "mlp.down_proj.weight", {h, c.intermediate_size}, 0.1f, 0.0f);
    return;
  }
  const moe_config& e = c.moe;
  const int64_t shared = e.moe_intermediate_size * e.n_shared_experts;
  add(p + "mlp.gate.weight", {e.n_routed_experts, h}, 0.1f, 0.0f);
  add(p + "mlp.gate.e_score_correction_bias", {e.n_routed_experts}, 0.05f, 0.0f);
  add(p + "mlp.shared_experts.gate_proj.weight", {shared, h}, 0.1f, 0.0f);
  add(p + "mlp.shared_experts.up_proj.weight", {shared, h}, 0.1f, 0.0f);
  add(p + "mlp.shared_experts.down_proj.weight", {h, shared}, 0.1f, 0.0f);
  for (int64_t x = 0; x < e.n_routed_experts; ++x) {
    const std::string ex = p + "mlp.experts." + std::to_string(x) + ".";
    add(ex + "gate_proj.weight", {e.moe_intermediate_size, h}, 0.1f, 0.0f);
    add(ex + "up_proj.weight", {e.moe_intermediate_size, h}, 0.1f, 0.0f);
    add(ex + "down_proj.weight", {h, e.moe_intermediate_size}, 0.1f, 0.0f);
  }
}

// A small DeepSeek: MLA with q_lora, YaRN, one dense layer then MoE (8 experts in 4 groups);
// V3.2 adds an indexer that keeps 16 keys, so prompts past 16 tokens attend sparsely.
void deepseek_preset(model_config& c, bool tiny) {
  c.num_key_value_heads = c.num_attention_heads;
  c.mla = {.q_lora_rank = tiny ? 32 : 128, .kv_lora_rank = tiny ? 32 : 128,
           .qk_nope_head_dim = tiny ? 16 : 32, .qk_rope_head_dim = tiny ? 16 : 32,
           .v_head_dim = tiny ? 16 : 32, .rope_interleave = true};
  c.head_dim = c.mla.qk_rope_head_dim;
  c.moe = {.n_routed_experts = 8, .n_shared_experts = 1, .moe_intermediate_size = tiny ? 32 : 256,
           .num_experts_per_tok = 2, .n_group = 4, .topk_group = 2,
           .routed_scaling_factor = 2.5, .norm_topk_prob = true};
  c.moe.moe_layers.assign(static_cast<size_t>(c.num_hidden_layers), true);
  c.moe.moe_layers[0] = false;
  c.rope = {.kind = rope_kind::rope_kind_yarn, .theta = 10000.0, .factor = 4.0,
            .original_max_position_embeddings = c.max_position_embeddings / 4, .mscale = 1.0,
            .mscale_all_dim = 1.0};
  if (c.arch == model_arch::model_arch_deepseek_v32) {
    c.indexer = {.n_heads = 4, .head_dim = c.mla.qk_rope_head_dim * 2, .topk = 16};
  }
  c.num_nextn_predict_layers = 1;
  c.tie_word_embeddings = false;
}

// Each script as one added (non-special) token, after every other id: one token carries all of
// it, so the model needs to learn one step, not a sequence.
std::string with_script_tokens(const std::string& tok_json,
                               const std::vector<std::string>& scripts) {
  nlohmann::ordered_json root = nlohmann::ordered_json::parse(tok_json);
  const tokenizer base = tokenizer::from_json(tok_json);
  int32_t next = base.vocab_size();
  for (size_t i = 0; i < scripts.size(); ++i) {
    const std::string& script = scripts[i];
    if (script.empty()) throw input_error("script " + std::to_string(i + 1) + " is empty");
    if (find_invalid_utf8(script)) {
      throw input_error("script " + std::to_string(i + 1) + " is not valid UTF-8");
    }
    if (base.token_to_id(script) ||
        std::find(scripts.begin(), scripts.begin() + static_cast<std::ptrdiff_t>(i), script) !=
            scripts.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw input_error("script " + std::to_string(i + 1) +
                        " is already a token of the vocabulary, or another script");
    }
    root["added_tokens"].push_back({{"id", next++},
                                    {"content", script},
                                    {"single_word", false},
                                    {"lstrip", false},
                                    {"rstrip", false},
                                    {"normalized", false},
                                    {"special", false}});
  }
  return root.dump(2) + "\n";
}

// Weights that write a script token after any token but the scripts, and end of text after one:
// attention and MLP outputs are zero, so the last hidden state is the current token's
// embedding; every token but the scripts embeds along axis 1, the scripts along axis 0, and the
// output layer maps axis 1 to every script token alike and axis 0 to end of text, with a margin
// of tens of logits over everything else (certain even at temperature 1).
void script_weights(std::vector<tensor_buffer>& tensors, const model_config& c,
                    const std::vector<int32_t>& scripts) {
  auto is_script = [&](int64_t v) {
    return std::find(scripts.begin(), scripts.end(), v) != scripts.end();
  };
  const int64_t h = c.hidden_size;
  const int32_t eos = c.eos_token_ids.at(0);
  for (tensor_buffer& t : tensors) {
    const bool zero = t.name.ends_with("o_proj.weight") || t.name.ends_with("down_proj.weight") ||
                      t.name == "model.embed_tokens.weight" || t.name == "lm_head.weight";
    if (zero) std::fill(t.values.begin(), t.values.end(), 0.0f);
    if (t.name == "model.norm.weight") std::fill(t.values.begin(), t.values.end(), 1.0f);
    if (t.name == "model.embed_tokens.weight") {
      for (int64_t v = 0; v < c.vocab_size; ++v) {
        t.values[static_cast<size_t>(v * h + (is_script(v) ? 0 : 1))] = 1.0f;
      }
    }
    if (t.name == "lm_head.weight") {
      for (int32_t s : scripts) t.values[static_cast<size_t>(int64_t{s} * h + 1)] = 10.0f;
      t.values[static_cast<size_t>(int64_t{eos} * h + 0)] = 10.0f;
    }
  }
}

} // namespace

std::optional<model_preset> parse_model_preset(std::string_view name) {
  if (name == "tiny") {
    return model_preset::model_preset_tiny;
  }
  if (name == "small") {
    return model_preset::model_preset_small;
  }
  return std::nullopt;
}

std::optional<model_arch> parse_model_arch(std::string_view name) {
  for (auto a : {model_arch::model_arch_llama, model_arch::model_arch_qwen2,
                 model_arch::model_arch_qwen3, model_arch::model_arch_deepseek_v3,
                 model_arch::model_arch_deepseek_v32}) {
    if (model_arch_name(a) == name) {
      return a;
    }
  }
  return std::nullopt;
}

model_config preset_config(model_arch arch, model_preset preset) {
  bool tiny = preset == model_preset::model_preset_tiny;
  model_config c;
  c.arch = arch;
  c.vocab_size = tiny ? 512 : 4096;
  c.hidden_size = tiny ? 64 : 512;
  c.intermediate_size = tiny ? 128 : 1536;
  c.num_hidden_layers = tiny ? 2 : 8;
  c.num_attention_heads = tiny ? 4 : 8;
  c.num_key_value_heads = tiny ? 2 : 4;
  c.head_dim = c.hidden_size / c.num_attention_heads;
  c.max_position_embeddings = tiny ? 2048 : 4096;
  c.rms_norm_eps = 1e-6;
  c.torch_dtype = "float32";
  switch (arch) {
  case model_arch::model_arch_llama: // Llama 3.2 style: llama3-scaled rope, untied head
    c.rope = {.kind = rope_kind::rope_kind_llama3, .theta = 500000.0, .factor = 32.0,
              .low_freq_factor = 1.0, .high_freq_factor = 4.0,
              .original_max_position_embeddings = 8192};
    c.tie_word_embeddings = false;
    break;
  case model_arch::model_arch_qwen2: // QKV bias, tied embeddings
    c.rope.theta = 1000000.0;
    c.tie_word_embeddings = true;
    c.qkv_bias = true;
    break;
  case model_arch::model_arch_qwen3: // QK-norm, head_dim wider than hidden / heads
    c.rope.theta = 1000000.0;
    c.tie_word_embeddings = true;
    c.qk_norm = true;
    c.head_dim = 2 * c.hidden_size / c.num_attention_heads;
    break;
  case model_arch::model_arch_deepseek_v3:
  case model_arch::model_arch_deepseek_v32:
    deepseek_preset(c, tiny);
    break;
  }
  return c;
}

void init_random_model(const model_init_params& params) {
  namespace fs = std::filesystem;
  fs::path dir(params.out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw input_error(params.out_dir + ": cannot create (" + ec.message() + ")");
  }

  // Tokenizer first: its vocabulary fixes the model's vocab_size and special token ids.
  model_config c = preset_config(params.arch, params.preset);
  family_tokens ft = tokens_for(params.arch);
  std::string tok_json = train_tokenizer_json({.family = ft.family,
                                               .corpus = default_training_corpus(),
                                               .vocab_size = static_cast<int32_t>(c.vocab_size),
                                               .special_tokens = ft.specials,
                                               .bos_token = ft.bos});
  std::vector<std::string> scripts = params.scripts;
  if (!params.script.empty()) scripts.insert(scripts.begin(), params.script);
  if (!scripts.empty()) {
    tok_json = with_script_tokens(tok_json, scripts);
  }
  tokenizer tok = tokenizer::from_json(tok_json);
  c.vocab_size = tok.vocab_size();
  if (ft.bos) {
    c.bos_token_ids = {*tok.token_to_id(*ft.bos)};
  }
  for (const auto& e : ft.eos) {
    c.eos_token_ids.push_back(*tok.token_to_id(e));
  }
  c.torch_dtype = params.bf16 ? "bfloat16" : "float32";
  if (!scripts.empty()) {
    c.tie_word_embeddings = false; // the output layer must differ from the embedding
  }

  // Weights: uniform draws with small widths so activations stay O(1) through the layers.
  uniform_source rng(params.seed);
  std::vector<tensor_buffer> tensors;
  auto add = [&](std::string name, std::vector<int64_t> shape, float width, float center) {
    int64_t n = 1;
    for (int64_t d : shape) {
      n *= d;
    }
    tensor_buffer t{std::move(name), std::move(shape), std::vector<float>(static_cast<size_t>(n))};
    for (auto& v : t.values) {
      v = center + rng.next(width);
    }
    tensors.push_back(std::move(t));
  };
  const int64_t h = c.hidden_size;
  add("model.embed_tokens.weight", {c.vocab_size, h}, 0.2f, 0.0f);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {h}, 0.1f, 1.0f);
    if (c.is_deepseek()) {
      add_deepseek_layer(c, c.moe.moe_layers[static_cast<size_t>(i)], p, add);
    } else {
      add_dense_layer(c, p, add);
    }
  }
  // DeepSeek ships its MTP layer after the trunk: a decoder layer (MoE) plus its own norms,
  // projection and head. The runtime checks it but does not run it.
  for (int64_t i = 0; i < c.num_nextn_predict_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(c.num_hidden_layers + i) + ".";
    add(p + "input_layernorm.weight", {h}, 0.1f, 1.0f);
    add_deepseek_layer(c, /*moe=*/true, p, add);
    add(p + "enorm.weight", {h}, 0.1f, 1.0f);
    add(p + "hnorm.weight", {h}, 0.1f, 1.0f);
    add(p + "eh_proj.weight", {h, 2 * h}, 0.1f, 0.0f);
    add(p + "shared_head.norm.weight", {h}, 0.1f, 1.0f);
    add(p + "shared_head.head.weight", {c.vocab_size, h}, 0.1f, 0.0f);
  }
  add("model.norm.weight", {h}, 0.1f, 1.0f);
  if (!c.tie_word_embeddings) {
    add("lm_head.weight", {c.vocab_size, h}, 0.2f, 0.0f);
  }

  if (!scripts.empty()) {
    std::vector<int32_t> ids;
    for (const std::string& s : scripts) ids.push_back(*tok.token_to_id(s));
    script_weights(tensors, c, ids);
  }

  std::vector<std::vector<std::byte>> storage;
  std::vector<tensor_to_write> to_write;
  for (const auto& t : tensors) {
    std::vector<std::byte> bytes;
    if (params.bf16) {
      bytes.resize(t.values.size() * 2);
      for (size_t i = 0; i < t.values.size(); ++i) {
        uint16_t b = f32_to_bf16(t.values[i]);
        std::memcpy(&bytes[2 * i], &b, 2);
      }
    } else {
      bytes.resize(t.values.size() * 4);
      std::memcpy(bytes.data(), t.values.data(), bytes.size());
    }
    storage.push_back(std::move(bytes));
    to_write.push_back({.name = t.name,
                        .type = params.bf16 ? dtype::dtype_bf16 : dtype::dtype_f32,
                        .shape = t.shape,
                        .bytes = storage.back()});
  }
  write_safetensors((dir / "model.safetensors").string(), to_write, {{"format", "pt"}});

  write_text(dir / "config.json", model_config_to_json(c));
  write_text(dir / "tokenizer.json", tok_json);
  nlohmann::json gen = {{"_from_model_config", true},
                        {"eos_token_id", c.eos_token_ids},
                        {"do_sample", false}};
  if (!c.bos_token_ids.empty()) {
    gen["bos_token_id"] = c.bos_token_ids[0];
  }
  write_text(dir / "generation_config.json", gen.dump(2) + "\n");
  nlohmann::json tok_config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                               {"model_max_length", c.max_position_embeddings},
                               {"eos_token", ft.eos[0]},
                               {"chat_template", chat_template_jinja(ft.format)}};
  tok_config["bos_token"] = ft.bos ? nlohmann::json(*ft.bos) : nlohmann::json(nullptr);
  write_text(dir / "tokenizer_config.json", tok_config.dump(2) + "\n");
}

} // namespace proofmesh::engine
