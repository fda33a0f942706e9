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

/// The most top-k logprobs a request may ask for per token (the GPU sampler's limit, enforced
/// for every backend so a request means the same everywhere).
inline constexpr int32_t max_request_logprobs = 128;

struct sampling_params;

/// Throws input_error unless temperature is finite in [0, 100], top_p in (0, 1], top_k >= 0
/// and num_logprobs in [0, max_request_logprobs]: a request checked here never fails a step.
void check_sampling(const sampling_params& s);

} // namespace proofmesh::engine
