#include "kernels/cpu/rms_norm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

TEST(rms_norm, normalises_and_scales) {
  std::vector<float> x = {3, 4}, w = {1, 2}, out(2);
  rms_norm({.x = x.data(), .residual = nullptr, .weight = w.data(), .out = out.data(), .rows = 1,
            .dim = 2, .row_stride = 2, .eps = 0});
  float rms = std::sqrt((9.0f + 16.0f) / 2.0f);
  EXPECT_FLOAT_EQ(out[0], 3 / rms);
  EXPECT_FLOAT_EQ(out[1], 2 * 4 / rms);
}

TEST(rms_norm, adds_residual_first_and_keeps_the_sum) {
  std::vector<float> x = {1, 1, 2, 2}, res = {2, 3, 0, 1}, w = {1, 1}, out(4);
  rms_norm({.x = x.data(), .residual = res.data(), .weight = w.data(), .out = out.data(),
            .rows = 2, .dim = 2, .row_stride = 2, .eps = 1e-6f});
  EXPECT_EQ(x, (std::vector<float>{3, 4, 2, 3}));
  float rms1 = std::sqrt(12.5f + 1e-6f);
  EXPECT_FLOAT_EQ(out[0], 3 / rms1);
  EXPECT_FLOAT_EQ(out[1], 4 / rms1);
}

} // namespace
} // namespace proofmesh::kernels::cpu
