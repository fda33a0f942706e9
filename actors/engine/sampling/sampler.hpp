// Turns one step's logits into a token, and reports top-k logprobs and the token's own.
// Rules of the road: logprobs are the log-softmax of the raw logits (before temperature, top-k
// and top-p), highest first, ties broken by lower id, as the CLI's --logprobs promises. Sampling
// applies temperature, then top-k, then top-p, as transformers does. Each sample stream owns a
// generator seeded from (seed, stream index), so a seed reproduces a whole run exactly, whatever
// the batch composition.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace proofmesh::engine {

struct sampling_params {
  float temperature = 1.0f; // 0 means greedy
  float top_p = 1.0f;       // (0, 1]; 1 disables
  int32_t top_k = 0;        // 0 disables
  uint64_t seed = 0;
  int32_t num_logprobs = 0; // top-k logprobs per step, 0 for none
};

struct step_logprobs {
  std::vector<int32_t> top_ids;
  std::vector<float> top_logprobs;
  float token_logprob = 0; // the sampled token's own, in or out of the top (when asked for)
};

struct sample_result {
  int32_t token = 0;
  step_logprobs logprobs; // empty when num_logprobs == 0
};

class sampler {
public:
  sampler(const sampling_params& params, uint64_t stream_index);

  sample_result sample(std::span<const float> logits);

private:
  int32_t draw(std::span<const float> logits);

  sampling_params params_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;  // scratch: candidate ids
  std::vector<double> weights_; // scratch: candidate probabilities
};

/// The top `k` log-softmax values of `logits`, highest first, and `token`'s own (when k > 0 and
/// a token is given): one log-sum-exp for both.
step_logprobs top_logprobs(std::span<const float> logits, int32_t k, int32_t token = -1);

} // namespace proofmesh::engine
