// The dense decoder-only transformer of Llama, Qwen2 and Qwen3 (dense_decoder.cpp).
#pragma once

#include "actors/engine/model/architecture.hpp"

namespace proofmesh::engine {

/// input_error when a tensor is missing or misshapen, naming it.
std::unique_ptr<architecture> load_dense_decoder(const model_config& config,
                                                 const weight_source& source, ops& backend);

} // namespace proofmesh::engine
