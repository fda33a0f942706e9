// The CPU matmul against a float64 reference, on fresh random inputs of awkward sizes.
#include "kernels/cpu/matmul.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

TEST(matmul, matches_float64_reference) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (auto [m, n, k] : {std::tuple{1, 1, 1}, {3, 5, 7}, {4, 8, 16}, {9, 33, 130}, {17, 64, 257}}) {
    std::vector<float> x(m * k), w(n * k), b(n), y(m * n, NAN);
    for (auto* v : {&x, &w, &b}) {
      for (auto& e : *v) {
        e = dist(rng);
      }
    }
    matmul({.x = x.data(), .w = w.data(), .bias = b.data(), .y = y.data(), .m = m, .n = n, .k = k});
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double ref = b[j];
        double mag = std::abs(b[j]);
        for (int t = 0; t < k; ++t) {
          ref += static_cast<double>(x[i * k + t]) * w[j * k + t];
          mag += std::abs(static_cast<double>(x[i * k + t]) * w[j * k + t]);
        }
        // float32 summation of k terms: error grows like k * eps * sum |terms|.
        EXPECT_NEAR(y[i * n + j], ref, 1e-6 * (k + 1) * mag + 1e-6) << m << "x" << n << "x" << k;
      }
    }
  }
}

TEST(matmul, no_bias_leaves_plain_product) {
  std::vector<float> x = {1, 2, 3}, w = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}, y(4);
  matmul({.x = x.data(), .w = w.data(), .bias = nullptr, .y = y.data(), .m = 1, .n = 4, .k = 3});
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 6}));
}

} // namespace
} // namespace proofmesh::kernels::cpu
