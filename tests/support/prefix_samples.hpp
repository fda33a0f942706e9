// Sampled completions of one prompt, as the batch engine's prefix-sharing tests on both backends
// submit them: the 21-token prompt (five full blocks of 4 and one token more), each sample's
// request, a loop that runs an engine to the end, and a request's run alone. Draws follow a request's seed and stream,
// so each sample can be compared with its own run alone.
#pragma once

#include "actors/engine/scheduling/batch_engine.hpp"

#include <map>
#include <vector>

namespace proofmesh::testing {

inline std::vector<int32_t> prefix_sample_prompt(int64_t vocab) {
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 21; ++i) {
    prompt.push_back((i * 31 + 7) % static_cast<int32_t>(vocab));
  }
  return prompt;
}

/// Sample `stream` of `prompt`: six tokens at temperature 1, top-p 0.9, seed 3.
inline engine::engine_request prefix_sample(const std::vector<int32_t>& prompt, uint64_t stream) {
  return {.prompt = prompt, .max_tokens = 6,
          .sampling = {.temperature = 1.0f, .top_p = 0.9f, .seed = 3}, .stream = stream};
}

/// Steps `engine` until it is idle, at most `max_steps` times; each finished request's ids.
inline std::map<engine::request_id, std::vector<int32_t>> run_to_end(engine::batch_engine& engine,
                                                                     int max_steps = 200) {
  std::map<engine::request_id, std::vector<int32_t>> done;
  for (int steps = 0; !engine.idle() && steps < max_steps; ++steps) {
    for (auto& e : engine.step()) {
      if (e.finished) {
        done[e.id] = e.finished->ids;
      }
    }
  }
  return done;
}

/// `request` run alone on `runner`, one sequence at a time (blocks of 4): the ids its batched run
/// must equal.
inline std::vector<int32_t> run_alone(engine::model_runner& runner,
                                      const engine::engine_request& request,
                                      int64_t total_blocks) {
  engine::batch_engine one(runner, nullptr, {.max_running = 1, .max_step_tokens = 4096,
                                             .block_size = 4, .total_blocks = total_blocks});
  const engine::request_id id = one.submit(request);
  return run_to_end(one)[id];
}

} // namespace proofmesh::testing
