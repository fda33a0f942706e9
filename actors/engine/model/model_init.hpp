// `proofmesh model init`: writes a random-weight model in Hugging Face format, so that tests and
// the demo need no download. Rules of the road: the output depends only on (arch, preset, seed,
// dtype): our own generator and uniform draws, no libm, so every machine writes the same bytes and
// golden logits made elsewhere stay valid. The tokenizer is trained on a built-in corpus.
// A scripted model (params.script) is the exception to "random": whatever the prompt, it writes
// the script and stops, sampled at any temperature. It is how tests drive the mesh's roles end
// to end with outputs that parse (a random model's never do); see init_random_model. Given
// several scripts (params.scripts), it writes one of them, all equally likely: a sampled
// completion draws one from its seed (greedy writes the first), so a demo's search meets answers
// of different scores, the same ones for the same seeds.
#pragma once

#include "actors/engine/model/model_config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

enum class model_preset : uint8_t { model_preset_tiny, model_preset_small };

std::optional<model_preset> parse_model_preset(std::string_view name);
std::optional<model_arch> parse_model_arch(std::string_view name);

struct model_init_params {
  model_arch arch = model_arch::model_arch_llama;
  model_preset preset = model_preset::model_preset_tiny;
  uint64_t seed = 0;
  bool bf16 = false;            // weights in bf16 instead of float32
  std::string out_dir;          // created if missing
  std::string script;           // non-empty: the model always writes this, then end of text
  std::vector<std::string> scripts; // or one of these (with script, it is the first)
};

/// The config the preset gives, before the tokenizer fixes vocab_size.
model_config preset_config(model_arch arch, model_preset preset);

/// Writes config.json, generation_config.json, tokenizer.json, tokenizer_config.json and
/// model.safetensors into params.out_dir. Throws input_error if the folder cannot be written.
void init_random_model(const model_init_params& params);

} // namespace proofmesh::engine
