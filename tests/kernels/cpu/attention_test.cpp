// Causal GQA attention against a float64 reference written out naively.
#include "kernels/cpu/attention.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

TEST(attention, matches_naive_causal_gqa) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist;
  const int64_t heads = 4, kv_heads = 2, d = 8, cached = 5, tokens = 3;
  const int64_t total = cached + tokens;
  std::vector<float> q(tokens * heads * d), k(total * kv_heads * d), v(total * kv_heads * d);
  for (auto* vec : {&q, &k, &v}) {
    for (auto& e : *vec) {
      e = dist(rng);
    }
  }
  std::vector<float> out(tokens * heads * d, NAN);
  float scale = 1.0f / std::sqrt(static_cast<float>(d));
  attention({.q = q.data(), .k_cache = k.data(), .v_cache = v.data(), .out = out.data(),
             .tokens = tokens, .first_position = cached, .heads = heads, .kv_heads = kv_heads,
             .head_dim = d, .q_stride = heads * d, .out_stride = heads * d, .scale = scale});
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t h = 0; h < heads; ++h) {
      int64_t g = h / (heads / kv_heads);
      std::vector<double> w;
      double mx = -1e300, sum = 0;
      for (int64_t s = 0; s <= cached + t; ++s) {
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) {
          dot += static_cast<double>(q[(t * heads + h) * d + i]) * k[(s * kv_heads + g) * d + i];
        }
        w.push_back(dot * scale);
        mx = std::max(mx, w.back());
      }
      for (auto& e : w) {
        e = std::exp(e - mx);
        sum += e;
      }
      for (int64_t i = 0; i < d; ++i) {
        double ref = 0;
        for (size_t s = 0; s < w.size(); ++s) {
          ref += w[s] / sum * v[(s * kv_heads + g) * d + i];
        }
        EXPECT_NEAR(out[(t * heads + h) * d + i], ref, 1e-5) << t << " " << h << " " << i;
      }
    }
  }
}

} // namespace
} // namespace proofmesh::kernels::cpu
