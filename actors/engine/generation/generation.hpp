// Generation: n completions of one prompt, on the batch engine (the one generation loop).
// Rules of the road: the n completions are n requests of one batch_engine, streams 0..n-1, so a
// seed draws what the worker's engine draws for the same request; they share the prompt's
// prefill through the engine's prefix groups. A completion ends at a stop token (its id is kept
// in `ids`, as transformers' generate keeps eos), at a stop string (the text ends before it), or
// at max_tokens ("length").
#pragma once

#include "actors/engine/generation/completion_tracker.hpp"
#include "actors/engine/model/model_runner.hpp"
#include "actors/engine/sampling/sampler.hpp"
#include "actors/engine/scheduling/scheduler.hpp"

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
  int32_t max_tokens = 16;              // new tokens per completion; 0: none (the prompt is checked)
  sampling_params sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_ids;        // usually the model's eos ids
};

/// When the tokens came: seconds from the call.
struct generate_timing {
  double first_token_seconds = -1; // the first sampled token of any completion (TTFT)
  double seconds = 0;              // the whole call
};

/// Receives streamed text as it becomes safe to show: (completion index, text delta).
using text_callback = std::function<void(int32_t, std::string_view)>;

/// `tok` may be null (a model folder without tokenizer.json): completions then carry ids only.
/// `plan` is the engine's planner (scheduler_config_for(engine_config)).
std::vector<completion> generate(model_runner& model, const tokenizer* tok,
                                 const generate_request& request, const text_callback& on_text,
                                 const scheduler_config& plan = {},
                                 generate_timing* timing = nullptr);

} // namespace proofmesh::engine
