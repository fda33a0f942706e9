// DeepSeek-V3 and V3.2 (deepseek_decoder.cpp): MLA, DeepSeekMoE, the DSA indexer, FP8 weights.
#pragma once

#include "actors/engine/model/architecture.hpp"

namespace proofmesh::engine {

/// input_error when a tensor or its FP8 scale is missing or misshapen, naming it.
std::unique_ptr<architecture> load_deepseek_decoder(const model_config& config,
                                                    const weight_source& source, ops& backend);

} // namespace proofmesh::engine
