#include "kernels/cpu/rope.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

TEST(rope, default_frequencies_follow_theta) {
  auto inv = rope_inv_freq({.head_dim = 8, .theta = 10000});
  ASSERT_EQ(inv.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(inv[i], 1.0 / std::pow(10000.0, 2.0 * i / 8), 1e-7);
  }
}

TEST(rope, llama3_scaling_divides_low_frequencies_and_keeps_high_ones) {
  rope_freq_params p{.head_dim = 64, .theta = 500000, .scaling = rope_scaling::rope_scaling_llama3,
                     .factor = 32, .original_max_position = 8192, .low_freq_factor = 1,
                     .high_freq_factor = 4};
  auto scaled = rope_inv_freq(p);
  p.scaling = rope_scaling::rope_scaling_none;
  auto plain = rope_inv_freq(p);
  for (size_t i = 0; i < plain.size(); ++i) {
    double wavelen = 2 * std::numbers::pi / plain[i];
    if (wavelen < 8192.0 / 4) {
      EXPECT_FLOAT_EQ(scaled[i], plain[i]) << i;
    } else if (wavelen > 8192.0) {
      EXPECT_NEAR(scaled[i], plain[i] / 32, 1e-12) << i;
    } else {
      EXPECT_LT(scaled[i], plain[i]);
      EXPECT_GT(scaled[i], plain[i] / 32);
    }
  }
}

TEST(rope, rotates_half_pairs_by_position_angle) {
  std::vector<float> inv = {1.0f, 0.5f};
  std::vector<float> x = {1, 2, 3, 4}; // one token, one head, head_dim 4
  int64_t pos = 3;
  rope({.x = x.data(), .positions = &pos, .inv_freq = inv.data(), .tokens = 1, .heads = 1,
        .head_dim = 4, .head_stride = 4, .token_stride = 4});
  float a0 = 3.0f, a1 = 1.5f;
  EXPECT_NEAR(x[0], 1 * std::cos(a0) - 3 * std::sin(a0), 1e-6);
  EXPECT_NEAR(x[2], 3 * std::cos(a0) + 1 * std::sin(a0), 1e-6);
  EXPECT_NEAR(x[1], 2 * std::cos(a1) - 4 * std::sin(a1), 1e-6);
  EXPECT_NEAR(x[3], 4 * std::cos(a1) + 2 * std::sin(a1), 1e-6);
}

// YaRN keeps the fast dimensions (below the correction range) and divides the slow ones (above it)
// by the factor, blending linearly between.
TEST(rope, yarn_keeps_fast_dimensions_and_interpolates_slow_ones) {
  rope_freq_params p{.head_dim = 64, .theta = 10000, .scaling = rope_scaling::rope_scaling_yarn,
                     .factor = 40, .original_max_position = 4096, .beta_fast = 32, .beta_slow = 1};
  auto yarn = rope_inv_freq(p);
  p.scaling = rope_scaling::rope_scaling_none;
  auto plain = rope_inv_freq(p);
  // The range for DeepSeek-V3's rope (dim 64, theta 1e4, 4096 positions): floor(10.47)..ceil(22.51).
  for (size_t i = 0; i < plain.size(); ++i) {
    if (i <= 10) {
      EXPECT_FLOAT_EQ(yarn[i], plain[i]) << i;
    } else if (i >= 23) {
      EXPECT_NEAR(yarn[i], plain[i] / 40, 1e-6 * plain[i]) << i;
    } else {
      EXPECT_LT(yarn[i], plain[i]) << i;
      EXPECT_GT(yarn[i], plain[i] / 40) << i;
    }
  }
}

TEST(rope, interleaved_pairs_neighbours_and_skips_the_rest_of_a_head) {
  std::vector<float> inv = {1.0f, 0.5f};
  // Two heads of stride 6, rotating their first 4 dims; the last 2 of each head stay.
  std::vector<float> x = {1, 2, 3, 4, 9, 9, 5, 6, 7, 8, 9, 9};
  int64_t pos = 3;
  rope({.x = x.data(), .positions = &pos, .inv_freq = inv.data(), .tokens = 1, .heads = 2,
        .head_dim = 4, .head_stride = 6, .token_stride = 12, .interleaved = true, .scale = 2.0f});
  float a0 = 3.0f, a1 = 1.5f;
  EXPECT_NEAR(x[0], 2 * (1 * std::cos(a0) - 2 * std::sin(a0)), 1e-5);
  EXPECT_NEAR(x[1], 2 * (2 * std::cos(a0) + 1 * std::sin(a0)), 1e-5);
  EXPECT_NEAR(x[2], 2 * (3 * std::cos(a1) - 4 * std::sin(a1)), 1e-5);
  EXPECT_NEAR(x[3], 2 * (4 * std::cos(a1) + 3 * std::sin(a1)), 1e-5);
  EXPECT_NEAR(x[6], 2 * (5 * std::cos(a0) - 6 * std::sin(a0)), 1e-5);
  EXPECT_EQ(x[4], 9);
  EXPECT_EQ(x[5], 9);
  EXPECT_EQ(x[10], 9);
  EXPECT_EQ(x[11], 9);
}

} // namespace
} // namespace proofmesh::kernels::cpu
