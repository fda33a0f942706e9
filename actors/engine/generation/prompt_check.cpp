#include "actors/engine/generation/prompt_check.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/sampling/sampler.hpp"

#include <cmath>

#include <string>

namespace proofmesh::engine {

void check_prompt(const model_config& c, std::span<const int32_t> prompt, int64_t max_tokens) {
  if (prompt.empty()) {
    throw input_error("prompt is empty");
  }
  for (int32_t id : prompt) {
    if (id < 0 || id >= c.vocab_size) {
      throw input_error("prompt token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                        std::to_string(c.vocab_size) + ")");
    }
  }
  if (max_tokens < 0) {
    throw input_error("max_tokens must be >= 0");
  }
  int64_t total = static_cast<int64_t>(prompt.size()) + max_tokens;
  if (total > c.max_position_embeddings) {
    throw input_error("prompt plus max_tokens (" + std::to_string(total) +
                      ") exceeds max_position_embeddings (" +
                      std::to_string(c.max_position_embeddings) + ")");
  }
}

void check_sampling(const sampling_params& s) {
  if (!std::isfinite(s.temperature) || s.temperature < 0 || s.temperature > 100) {
    throw input_error("temperature must be in [0, 100]");
  }
  if (!(s.top_p > 0 && s.top_p <= 1)) {
    throw input_error("top_p must be in (0, 1]");
  }
  if (s.top_k < 0) {
    throw input_error("top_k must be >= 0");
  }
  if (s.num_logprobs < 0 || s.num_logprobs > max_request_logprobs) {
    throw input_error("logprobs must be in [0, " + std::to_string(max_request_logprobs) + "]");
  }
}

} // namespace proofmesh::engine
