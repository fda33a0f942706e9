// The two top-k choices of DeepSeek: the MoE router's (groups, then experts) and the DSA
// indexer's (keys), on cases worked by hand.
#include "kernels/cpu/index_topk.hpp"
#include "kernels/cpu/moe_route.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

float logit(float p) { return std::log(p / (1.0f - p)); }

// 8 experts in 4 groups of 2, keep 2 groups, choose 2 experts. The bias steers the choice, but the
// weights come from the unbiased scores.
TEST(moe_route, groups_by_top_two_sum_then_experts_with_unbiased_weights) {
  const std::vector<float> scores = {0.9f, 0.1f, 0.5f, 0.5f, 0.2f, 0.2f, 0.95f, 0.05f};
  std::vector<float> logits;
  for (float s : scores) logits.push_back(logit(s));
  // Group sums (with bias): g0 1.0, g1 1.0 + 0.3, g2 0.4, g3 1.0. Kept: g1, then g0 (tie with
  // g3, lower group wins).
  const std::vector<float> bias = {0, 0, 0.3f, 0, 0, 0, 0, 0};
  std::vector<int32_t> experts(2);
  std::vector<float> weights(2);
  moe_route({.logits = logits.data(), .bias = bias.data(), .experts_out = experts.data(),
             .weights_out = weights.data(), .tokens = 1, .experts = 8, .per_token = 2,
             .groups = 4, .groups_kept = 2, .scaling = 2.0f, .normalize = true});
  // Among experts 0..3 with bias: 0.9, 0.1, 0.8, 0.5: experts 0 then 2 (expert 6 is in a dropped
  // group despite the best score).
  EXPECT_EQ(experts, (std::vector<int32_t>{0, 2}));
  EXPECT_NEAR(weights[0], 2.0f * 0.9f / 1.4f, 1e-5f);
  EXPECT_NEAR(weights[1], 2.0f * 0.5f / 1.4f, 1e-5f);

  moe_route({.logits = logits.data(), .bias = bias.data(), .experts_out = experts.data(),
             .weights_out = weights.data(), .tokens = 1, .experts = 8, .per_token = 2,
             .groups = 4, .groups_kept = 2, .scaling = 2.0f, .normalize = false});
  EXPECT_NEAR(weights[0], 2.0f * 0.9f, 1e-5f);
  EXPECT_NEAR(weights[1], 2.0f * 0.5f, 1e-5f);
}

// One head of dim 2, weight 1: the score of key s is relu(q . k[s]).
TEST(index_topk, keeps_the_best_visible_keys_ties_to_the_earlier) {
  const std::vector<float> keys = {1, 0,   -1, 0,   0.5f, 0,   1, 0,   2, 0};
  const std::vector<float> q = {1, 0,   1, 0};  // tokens at positions 3 and 4
  const std::vector<float> w = {1, 1};
  std::vector<int32_t> selected(6);
  index_topk({.q = q.data(), .keys = keys.data(), .weights = w.data(), .selected = selected.data(),
              .tokens = 2, .first_position = 3, .heads = 1, .head_dim = 2, .topk = 3,
              .q_stride = 2, .weights_stride = 1, .scale = 1.0f, .weight_scale = 1.0f});
  // Position 3 sees scores 1, 0, 0.5, 1: keys 0 and 3 (tied at 1), then 2; listed ascending.
  EXPECT_EQ(std::vector<int32_t>(selected.begin(), selected.begin() + 3),
            (std::vector<int32_t>{0, 2, 3}));
  // Position 4 also sees key 4 (score 2): 4, then the tie 0 and 3.
  EXPECT_EQ(std::vector<int32_t>(selected.begin() + 3, selected.end()),
            (std::vector<int32_t>{0, 3, 4}));

  // Fewer visible keys than topk: all of them, then -1.
  std::vector<int32_t> few(3);
  index_topk({.q = q.data(), .keys = keys.data(), .weights = w.data(), .selected = few.data(),
              .tokens = 1, .first_position = 1, .heads = 1, .head_dim = 2, .topk = 3,
              .q_stride = 2, .weights_stride = 1, .scale = 1.0f, .weight_scale = 1.0f});
  EXPECT_EQ(few, (std::vector<int32_t>{0, 1, -1}));
}

} // namespace
} // namespace proofmesh::kernels::cpu
