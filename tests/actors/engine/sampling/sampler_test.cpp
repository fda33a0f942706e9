#include "actors/engine/sampling/sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace proofmesh::engine {
namespace {

TEST(sampler, greedy_picks_first_maximum) {
  sampler s({.temperature = 0}, 0);
  std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(s.sample(logits).token, 1);
}

TEST(sampler, logprobs_are_log_softmax_of_raw_logits_highest_first) {
  std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f};
  auto lp = top_logprobs(logits, 3);
  double lse = std::log(std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0));
  EXPECT_EQ(lp.top_ids, (std::vector<int32_t>{1, 3, 2}));
  EXPECT_NEAR(lp.top_logprobs[0], 3.0 - lse, 1e-6);
  EXPECT_NEAR(lp.top_logprobs[2], 2.0 - lse, 1e-6);
  // Temperature does not change reported logprobs.
  sampler s({.temperature = 5.0f, .seed = 1, .num_logprobs = 3}, 0);
  auto r = s.sample(logits);
  EXPECT_EQ(r.logprobs.top_ids, lp.top_ids);
}

// The sampled token's own logprob, whether or not it is in the reported top.
TEST(sampler, the_sampled_tokens_logprob_comes_with_the_top) {
  std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.5f};
  double lse = 0;
  for (float l : logits) lse += std::exp(static_cast<double>(l));
  lse = std::log(lse);
  sampler s({.temperature = 4.0f, .seed = 3, .num_logprobs = 1}, 0);
  bool outside_top = false;
  for (int i = 0; i < 50; ++i) {
    sample_result r = s.sample(logits);
    EXPECT_NEAR(r.logprobs.token_logprob, logits[static_cast<size_t>(r.token)] - lse, 1e-6);
    outside_top |= r.token != r.logprobs.top_ids[0];
  }
  EXPECT_TRUE(outside_top);
}

TEST(sampler, same_seed_and_stream_reproduce_different_streams_differ) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) {
    logits[i] = static_cast<float>(i % 7) * 0.1f;
  }
  auto run = [&](uint64_t seed, uint64_t stream) {
    sampler s({.temperature = 1.0f, .seed = seed}, stream);
    std::vector<int32_t> out;
    for (int i = 0; i < 40; ++i) {
      out.push_back(s.sample(logits).token);
    }
    return out;
  };
  EXPECT_EQ(run(42, 0), run(42, 0));
  EXPECT_NE(run(42, 0), run(42, 1));
  EXPECT_NE(run(42, 0), run(43, 0));
}

TEST(sampler, top_k_and_top_p_restrict_the_support) {
  std::vector<float> logits = {0.0f, 5.0f, 4.9f, 4.8f, -3.0f};
  sampler k2({.temperature = 1.0f, .top_k = 2, .seed = 9}, 0);
  sampler p({.temperature = 1.0f, .top_p = 0.5f, .seed = 9}, 0);
  std::map<int32_t, int> seen_k, seen_p;
  for (int i = 0; i < 2000; ++i) {
    ++seen_k[k2.sample(logits).token];
    ++seen_p[p.sample(logits).token];
  }
  EXPECT_EQ(seen_k.size(), 2u);
  EXPECT_TRUE(seen_k.count(1) && seen_k.count(2));
  // Token 1 holds ~35% of the mass; with token 2 the prefix passes 0.5, so exactly {1, 2}.
  EXPECT_EQ(seen_p.size(), 2u);
  EXPECT_TRUE(seen_p.count(1) && seen_p.count(2));
}

TEST(sampler, sampling_follows_the_distribution) {
  std::vector<float> logits = {std::log(0.7f), std::log(0.2f), std::log(0.1f)};
  sampler s({.temperature = 1.0f, .seed = 5}, 3);
  std::vector<int> counts(3);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    ++counts[s.sample(logits).token];
  }
  // Binomial standard deviations are below 0.0033; 0.02 is six of them.
  EXPECT_NEAR(counts[0] / double(n), 0.7, 0.02);
  EXPECT_NEAR(counts[1] / double(n), 0.2, 0.02);
  EXPECT_NEAR(counts[2] / double(n), 0.1, 0.02);
}

} // namespace
} // namespace proofmesh::engine
