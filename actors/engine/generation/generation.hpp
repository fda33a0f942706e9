// Generation: n completions of one prompt, on any model_runner.
// Rules of the road: the prompt is prefilled once and its cache forked into the n samples, which
// then decode together, one batched forward pass per step. Runners that sample on the device
// return tokens instead of logits; the others are sampled here on the host. A completion ends at a stop token
// (its id is kept in `ids`, as transformers' generate keeps eos), at a stop string (the text ends
// before it), or at max_tokens ("length").
#pragma once

#include "actors/engine/generation/completion_tracker.hpp"
#include "actors/engine/model/model_runner.hpp"
#include "actors/engine/sampling/sampler.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

class tokenizer;

struct generate_request {
  std::vector<int32_t> prompt;          // token ids, non-empty, each < vocab_size
  int32_t n = 1;                        // completions
  int32_t max_tokens = 16;              // new tokens per completion
  sampling_params sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_ids;        // usually the model's eos ids
};

/// Receives streamed text as it becomes safe to show: (completion index, text delta).
using text_callback = std::function<void(int32_t, std::string_view)>;

/// `tok` may be null (a model folder without tokenizer.json): completions then carry ids only.
std::vector<completion> generate(model_runner& model, const tokenizer* tok,
                                 const generate_request& request, const text_callback& on_text);

} // namespace proofmesh::engine
