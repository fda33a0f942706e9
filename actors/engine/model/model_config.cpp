#include "actors/engine/model/model_config.hpp"

#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/engine/model/config_reader.hpp"
#include "actors/engine/model/deepseek_config.hpp"

#include <cmath>
#include <filesystem>

namespace proofmesh::engine {

namespace {

using namespace config_json;

constexpr size_t max_config_bytes = 1 << 20;

model_arch parse_arch(const reader& r) {
  std::string type = r.string_or("model_type", "");
  if (type == "llama") {
    return model_arch::model_arch_llama;
  }
  if (type == "qwen2") {
    return model_arch::model_arch_qwen2;
  }
  if (type == "qwen3") {
    return model_arch::model_arch_qwen3;
  }
  if (type == "deepseek_v3") {
    return model_arch::model_arch_deepseek_v3;
  }
  if (type == "deepseek_v32") {
    return model_arch::model_arch_deepseek_v32;
  }
  r.fail("model_type",
         type.empty() ? "is missing"
                      : "\"" + type +
                            "\" is not supported (llama, qwen2, qwen3, deepseek_v3, deepseek_v32)");
}

// YaRN as transformers' _compute_yarn_parameters reads it (a zero beta means the default, as
// Python's `or` does there), and its attention factor on cos and sin.
void parse_yarn(const reader& r, const json& params, const std::string& field,
                int64_t max_position_embeddings, rope_config& rope) {
  rope.kind = rope_kind::rope_kind_yarn;
  rope.factor = r.number_or(params, "factor", 0.0);
  if (!(rope.factor >= 1.0 && rope.factor <= 1e6)) {
    r.fail(field + ".factor", "must be in [1, 1e6]");
  }
  const double orig = r.number_or(params, "original_max_position_embeddings",
                                  static_cast<double>(max_position_embeddings));
  if (!(orig >= 1.0 && orig <= 1e9)) {
    r.fail(field + ".original_max_position_embeddings", "is out of range");
  }
  rope.original_max_position_embeddings = static_cast<int64_t>(orig);
  rope.beta_fast = r.number_or(params, "beta_fast", 0.0);
  rope.beta_slow = r.number_or(params, "beta_slow", 0.0);
  rope.beta_fast = rope.beta_fast == 0.0 ? 32.0 : rope.beta_fast;
  rope.beta_slow = rope.beta_slow == 0.0 ? 1.0 : rope.beta_slow;
  rope.mscale = r.number_or(params, "mscale", 0.0);
  rope.mscale_all_dim = r.number_or(params, "mscale_all_dim", 0.0);
  if (!(rope.beta_fast > 0 && rope.beta_slow > 0 && rope.mscale >= 0 && rope.mscale < 100 &&
        rope.mscale_all_dim >= 0 && rope.mscale_all_dim < 100)) {
    r.fail(field, "has yarn betas or mscales out of range");
  }
  if (params.contains("truncate") && !params.at("truncate").is_null()) {
    if (!params.at("truncate").is_boolean()) {
      r.fail(field + ".truncate", "must be true or false");
    }
    rope.truncate = params.at("truncate").get<bool>();
  }
  const double explicit_factor = r.number_or(params, "attention_factor", 0.0);
  if (explicit_factor < 0 || explicit_factor > 100) {
    r.fail(field + ".attention_factor", "is out of range");
  }
  rope.attention_factor =
      explicit_factor > 0 ? explicit_factor
      : rope.mscale != 0 && rope.mscale_all_dim != 0
          ? yarn_mscale(rope.factor, rope.mscale) / yarn_mscale(rope.factor, rope.mscale_all_dim)
          : yarn_mscale(rope.factor, 1.0);
}

// transformers 5 writes `rope_parameters`; older files write `rope_theta` and `rope_scaling`.
rope_config parse_rope(const reader& r, int64_t max_position_embeddings, bool yarn_allowed) {
  rope_config rope;
  const json* params = nullptr;
  std::string field = "rope_parameters";
  if (r.has("rope_parameters")) {
    params = &r.j.at("rope_parameters");
  } else if (r.has("rope_scaling")) {
    params = &r.j.at("rope_scaling");
    field = "rope_scaling";
  }
  if (r.has("rope_theta")) {
    rope.theta = r.number_or(r.j, "rope_theta", rope.theta);
  }
  if (params) {
    if (!params->is_object()) {
      r.fail(field, "must be an object");
    }
    rope.theta = r.number_or(*params, "rope_theta", rope.theta);
    std::string type = "default";
    for (const char* key : {"rope_type", "type"}) {
      if (params->contains(key) && params->at(key).is_string()) {
        type = params->at(key).get<std::string>();
        break;
      }
    }
    if (type == "llama3") {
      rope.kind = rope_kind::rope_kind_llama3;
      rope.factor = r.number_or(*params, "factor", 8.0);
      rope.low_freq_factor = r.number_or(*params, "low_freq_factor", 1.0);
      rope.high_freq_factor = r.number_or(*params, "high_freq_factor", 4.0);
      double orig = r.number_or(*params, "original_max_position_embeddings", 8192.0);
      if (!(orig >= 1.0 && orig <= 1e9)) {
        r.fail(field + ".original_max_position_embeddings", "is out of range");
      }
      rope.original_max_position_embeddings = static_cast<int64_t>(orig);
      if (!(rope.factor > 0 && rope.low_freq_factor > 0 &&
            rope.high_freq_factor > rope.low_freq_factor)) {
        r.fail(field, "has llama3 factors out of range");
      }
    } else if (type == "yarn" && yarn_allowed) {
      parse_yarn(r, *params, field, max_position_embeddings, rope);
    } else if (type != "default") {
      r.fail(field + ".rope_type", "\"" + type + "\" is not supported (default, llama3" +
                                       std::string(yarn_allowed ? ", yarn)" : ")"));
    }
  }
  if (!(rope.theta > 0 && rope.theta < 1e12)) {
    r.fail("rope_theta", "must be positive");
  }
  return rope;
}

void refuse_unsupported(const reader& r, model_arch arch) {
  std::string act = r.string_or("hidden_act", "silu");
  if (act != "silu") {
    r.fail("hidden_act", "\"" + act + "\" is not supported (silu)");
  }
  if (r.boolean_or("mlp_bias", false)) {
    r.fail("mlp_bias", "true is not supported");
  }
  if (r.boolean_or("use_sliding_window", false)) {
    r.fail("use_sliding_window", "true is not supported");
  }
  const bool deepseek =
      arch == model_arch::model_arch_deepseek_v3 || arch == model_arch::model_arch_deepseek_v32;
  if (r.has("quantization_config") && !deepseek) {
    r.fail("quantization_config", "is not supported: give bf16, f16 or f32 weights");
  }
  if (r.has("layer_types")) {
    const json& types = r.j.at("layer_types");
    if (!types.is_array()) {
      r.fail("layer_types", "must be an array");
    }
    const std::string only = arch == model_arch::model_arch_deepseek_v32
                                 ? "deepseek_sparse_attention"
                                 : "full_attention";
    for (const auto& t : types) {
      if (!t.is_string() || t.get<std::string>() != only) {
        r.fail("layer_types", "may only hold \"" + only + "\"");
      }
    }
  }
}

} // namespace

double yarn_mscale(double factor, double mscale) {
  return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

std::string_view model_arch_name(model_arch arch) {
  switch (arch) {
  case model_arch::model_arch_llama:
    return "llama";
  case model_arch::model_arch_qwen2:
    return "qwen2";
  case model_arch::model_arch_qwen3:
    return "qwen3";
  case model_arch::model_arch_deepseek_v3:
    return "deepseek_v3";
  case model_arch::model_arch_deepseek_v32:
    return "deepseek_v32";
  }
  return "unknown";
}

model_config parse_model_config(std::string_view json_text, std::string_view source) {
  if (json_text.size() > max_config_bytes) {
    throw input_error(std::string(source) + ": larger than 1 MiB");
  }
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw input_error(std::string(source) + ": not a JSON object");
  }
  reader r{j, source};
  model_config c;
  c.arch = parse_arch(r);
  refuse_unsupported(r, c.arch);
  c.vocab_size = r.integer("vocab_size", 1, max_vocab);
  c.hidden_size = r.integer("hidden_size", 1, max_dim);
  c.intermediate_size = r.integer("intermediate_size", 1, 4 * max_dim);
  c.num_hidden_layers = r.integer("num_hidden_layers", 1, max_layers);
  c.num_attention_heads = r.integer("num_attention_heads", 1, max_heads);
  c.num_key_value_heads =
      r.integer_or("num_key_value_heads", c.num_attention_heads, 1, c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    r.fail("num_key_value_heads", "must divide num_attention_heads");
  }
  if (c.is_deepseek()) {
    parse_deepseek(r, c); // MLA, MoE, the indexer, FP8; head_dim becomes the rope part
  } else {
    if (!r.has("head_dim") && c.hidden_size % c.num_attention_heads != 0) {
      r.fail("hidden_size", "must be a multiple of num_attention_heads when head_dim is absent");
    }
    c.head_dim = r.integer_or("head_dim", c.hidden_size / c.num_attention_heads, 2, 1024);
    if (c.head_dim % 2 != 0) {
      r.fail("head_dim", "must be even for rotary embeddings");
    }
  }
  c.max_position_embeddings = r.integer_or("max_position_embeddings", 4096, 1, 1 << 24);
  c.rms_norm_eps = r.number_or(j, "rms_norm_eps", 1e-6);
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1)) {
    r.fail("rms_norm_eps", "must be in (0, 1)");
  }
  c.rope = parse_rope(r, c.max_position_embeddings, c.is_deepseek());
  c.tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
  bool attention_bias = r.boolean_or("attention_bias", false);
  if (attention_bias && c.is_deepseek()) {
    r.fail("attention_bias", "true is not supported for DeepSeek models");
  }
  c.qkv_bias = c.arch == model_arch::model_arch_qwen2 || attention_bias;
  c.o_bias = c.arch != model_arch::model_arch_qwen2 && attention_bias;
  c.qk_norm = c.arch == model_arch::model_arch_qwen3;
  c.bos_token_ids = r.token_ids("bos_token_id");
  c.eos_token_ids = r.token_ids("eos_token_id");
  c.torch_dtype = r.string_or("dtype", r.string_or("torch_dtype", "float32"));
  return c;
}

model_config load_model_config(const std::string& model_dir) {
  std::filesystem::path dir(model_dir);
  auto config_path = dir / "config.json";
  model_config c = parse_model_config(read_text_file(config_path.string(), max_config_bytes), config_path.string());
  auto gen_path = dir / "generation_config.json";
  if (std::filesystem::exists(gen_path)) {
    json g = json::parse(read_text_file(gen_path.string(), max_config_bytes), nullptr, false);
    if (g.is_discarded() || !g.is_object()) {
      throw input_error(gen_path.string() + ": not a JSON object");
    }
    reader r{g, gen_path.string()};
    for (int64_t id : r.token_ids("eos_token_id")) {
      if (std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), id) == c.eos_token_ids.end()) {
        c.eos_token_ids.push_back(id);
      }
    }
  }
  return c;
}

std::string model_config_to_json(const model_config& c) {
  static const char* arch_class[] = {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
                                     "DeepseekV3ForCausalLM", "DeepseekV32ForCausalLM"};
  json j;
  j["architectures"] = {arch_class[static_cast<int>(c.arch)]};
  j["model_type"] = std::string(model_arch_name(c.arch));
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  json rope = {{"rope_theta", c.rope.theta}};
  switch (c.rope.kind) {
  case rope_kind::rope_kind_default:
    rope["rope_type"] = "default";
    break;
  case rope_kind::rope_kind_llama3:
    rope["rope_type"] = "llama3";
    rope["factor"] = c.rope.factor;
    rope["low_freq_factor"] = c.rope.low_freq_factor;
    rope["high_freq_factor"] = c.rope.high_freq_factor;
    rope["original_max_position_embeddings"] = c.rope.original_max_position_embeddings;
    break;
  case rope_kind::rope_kind_yarn:
    rope["rope_type"] = "yarn";
    rope["factor"] = c.rope.factor;
    rope["original_max_position_embeddings"] = c.rope.original_max_position_embeddings;
    rope["beta_fast"] = c.rope.beta_fast;
    rope["beta_slow"] = c.rope.beta_slow;
    rope["mscale"] = c.rope.mscale;
    rope["mscale_all_dim"] = c.rope.mscale_all_dim;
    break;
  }
  j["rope_parameters"] = rope;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["attention_dropout"] = 0.0;
  if (c.is_deepseek()) {
    j["attention_bias"] = false;
    write_deepseek_fields(c, j);
  } else {
    if (c.arch != model_arch::model_arch_qwen2) {
      j["attention_bias"] = c.o_bias;
    }
    if (c.arch == model_arch::model_arch_llama) {
      j["mlp_bias"] = false;
    } else {
      j["use_sliding_window"] = false;
    }
  }
  auto ids = [](const std::vector<int64_t>& v) -> json {
    return v.empty() ? json(nullptr) : v.size() == 1 ? json(v[0]) : json(v);
  };
  j["bos_token_id"] = ids(c.bos_token_ids);
  j["eos_token_id"] = ids(c.eos_token_ids);
  j["dtype"] = c.torch_dtype;
  j["use_cache"] = true;
  return j.dump(2) + "\n";
}

} // namespace proofmesh::engine
