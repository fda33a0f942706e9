#include "actors/engine/sampling/sampler.hpp"

#include "actors/common/splitmix64.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace proofmesh::engine {

namespace {

int32_t argmax(std::span<const float> logits) {
  // torch.argmax returns the first maximum; so do we.
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

double log_sum_exp(std::span<const float> logits) {
  double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) {
    sum += std::exp(static_cast<double>(l) - max);
  }
  return max + std::log(sum);
}

} // namespace

step_logprobs top_logprobs(std::span<const float> logits, int32_t k, int32_t token) {
  step_logprobs out;
  if (k <= 0 || logits.empty()) {
    return out;
  }
  size_t n = std::min(static_cast<size_t>(k), logits.size());
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                    [&](int32_t a, int32_t b) {
                      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
                    });
  double lse = log_sum_exp(logits);
  for (size_t i = 0; i < n; ++i) {
    out.top_ids.push_back(ids[i]);
    out.top_logprobs.push_back(static_cast<float>(logits[ids[i]] - lse));
  }
  if (token >= 0 && static_cast<size_t>(token) < logits.size()) {
    out.token_logprob = static_cast<float>(logits[static_cast<size_t>(token)] - lse);
  }
  return out;
}

sampler::sampler(const sampling_params& params, uint64_t stream_index)
    : params_(params), rng_(splitmix64(params.seed ^ splitmix64(stream_index))) {}

sample_result sampler::sample(std::span<const float> logits) {
  sample_result result;
  result.token = draw(logits);
  result.logprobs = top_logprobs(logits, params_.num_logprobs, result.token);
  return result;
}

int32_t sampler::draw(std::span<const float> logits) {
  if (params_.temperature <= 0.0f || params_.top_k == 1) {
    return argmax(logits);
  }
  // Candidates sorted by logit, highest first (ties: lower id), cut by top-k.
  order_.resize(logits.size());
  std::iota(order_.begin(), order_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  };
  size_t keep = logits.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(keep),
                      order_.end(), by_logit);
  } else {
    std::sort(order_.begin(), order_.end(), by_logit);
  }
  // Softmax at temperature over the kept candidates, in double.
  double inv_t = 1.0 / params_.temperature;
  double max = logits[order_[0]] * inv_t;
  weights_.resize(keep);
  double total = 0;
  for (size_t i = 0; i < keep; ++i) {
    weights_[i] = std::exp(logits[order_[i]] * inv_t - max);
    total += weights_[i];
  }
  // Top-p keeps the smallest prefix whose mass reaches top_p (always at least one token).
  if (params_.top_p < 1.0f) {
    double mass = 0;
    size_t cut = 0;
    while (cut < keep) {
      mass += weights_[cut] / total;
      ++cut;
      if (mass >= params_.top_p) {
        break;
      }
    }
    keep = cut;
    total = std::accumulate(weights_.begin(), weights_.begin() + static_cast<std::ptrdiff_t>(keep), 0.0);
  }
  // Inverse CDF with a 53-bit uniform, so the draw depends only on the generator state.
  double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  for (size_t i = 0; i < keep; ++i) {
    u -= weights_[i];
    if (u < 0) {
      return order_[i];
    }
  }
  return order_[keep - 1];
}

} // namespace proofmesh::engine
