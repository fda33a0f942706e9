#include "kernels/cpu/rope.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

TEST(rope, default_frequencies_follow_theta) {
  auto inv = rope_inv_freq({.head_dim = 8, .theta = 10000, .llama3 = false, .factor = 1,
                            .low_freq_factor = 1, .high_freq_factor = 4,
                            .original_max_position = 8192});
  ASSERT_EQ(inv.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(inv[i], 1.0 / std::pow(10000.0, 2.0 * i / 8), 1e-7);
  }
}

TEST(rope, llama3_scaling_divides_low_frequencies_and_keeps_high_ones) {
  rope_freq_params p{.head_dim = 64, .theta = 500000, .llama3 = true, .factor = 32,
                     .low_freq_factor = 1, .high_freq_factor = 4, .original_max_position = 8192};
  auto scaled = rope_inv_freq(p);
  p.llama3 = false;
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
        .head_dim = 4, .token_stride = 4});
  float a0 = 3.0f, a1 = 1.5f;
  EXPECT_NEAR(x[0], 1 * std::cos(a0) - 3 * std::sin(a0), 1e-6);
  EXPECT_NEAR(x[2], 3 * std::cos(a0) + 1 * std::sin(a0), 1e-6);
  EXPECT_NEAR(x[1], 2 * std::cos(a1) - 4 * std::sin(a1), 1e-6);
  EXPECT_NEAR(x[3], 4 * std::cos(a1) + 2 * std::sin(a1), 1e-6);
}

} // namespace
} // namespace proofmesh::kernels::cpu
