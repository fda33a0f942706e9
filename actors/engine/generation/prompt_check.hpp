// The checks every way into generation makes on a prompt, so generate() and the batch engine
// refuse the same inputs with the same messages.
#pragma once

#include "actors/engine/model/model_config.hpp"

#include <cstdint>
#include <span>

namespace proofmesh::engine {

/// Throws input_error if `prompt` is empty, holds an id outside the vocabulary, or cannot grow
/// by `max_tokens` within max_position_embeddings.
void check_prompt(const model_config& config, std::span<const int32_t> prompt, int64_t max_tokens);

} // namespace proofmesh::engine
