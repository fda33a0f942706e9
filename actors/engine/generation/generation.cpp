#include "actors/engine/generation/generation.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/generation/prompt_check.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"

#include <chrono>
#include <map>

namespace proofmesh::engine {

std::vector<completion> generate(model_runner& model, const tokenizer* tok,
                                 const generate_request& request, const text_callback& on_text,
                                 const scheduler_config& plan, generate_timing* timing) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto since = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  if (request.n < 1 || request.n > 1024) {
    throw input_error("n must be in [1, 1024]");
  }
  check_prompt(model.config(), request.prompt, request.max_tokens);
  check_sampling(request.sampling);
  std::vector<completion> result(static_cast<size_t>(request.n));
  if (request.max_tokens == 0) {
    return result; // nothing to generate: n empty completions, finished by length
  }

  batch_engine engine(model, tok, plan);
  std::map<request_id, int32_t> index;
  for (int32_t i = 0; i < request.n; ++i) {
    index[engine.submit({.prompt = request.prompt, .max_tokens = request.max_tokens,
                         .sampling = request.sampling, .stop_strings = request.stop_strings,
                         .stop_ids = request.stop_ids, .stream = static_cast<uint64_t>(i)})] = i;
  }
  double first_token = -1;
  while (!engine.idle()) {
    std::vector<engine_event> events = engine.step();
    if (first_token < 0 && !events.empty()) {
      first_token = since(); // events come from sampled tokens only
    }
    for (engine_event& e : events) {
      const int32_t i = index.at(e.id);
      if (!e.text.empty() && on_text) {
        on_text(i, e.text);
      }
      if (e.finished) {
        result[static_cast<size_t>(i)] = std::move(*e.finished);
      }
    }
  }
  if (timing != nullptr) {
    *timing = {.first_token_seconds = first_token, .seconds = since()};
  }
  return result;
}

} // namespace proofmesh::engine
