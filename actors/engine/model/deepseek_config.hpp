// The DeepSeek-V3 and V3.2 part of a config.json: MLA, DeepSeekMoE, the DSA indexer, the MTP layer
// count and the FP8 quantization_config, checked as transformers 5.17's DeepseekV3Config and
// DeepseekV32Config read them. Routing or quantization we do not implement is refused by name.
#pragma once

#include "actors/engine/model/config_reader.hpp"
#include "actors/engine/model/model_config.hpp"

#include <string>

namespace proofmesh::engine {

/// Fills the DeepSeek parts of `c` (and its head_dim: the rope part of a head), whose common
/// fields (sizes, heads, layers) are already read.
void parse_deepseek(const config_json::reader& r, model_config& c);

/// Adds the DeepSeek fields of `c` to the config.json object model_config_to_json writes, as
/// transformers writes them (used by `model init`).
void write_deepseek_fields(const model_config& c, config_json::json& j);

} // namespace proofmesh::engine
