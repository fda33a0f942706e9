// MLA's absorbed form against the expanded one transformers computes (keys and values per head
// from kv_b), on random inputs; and the sparse form against dense attention over the same keys.
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/mla_attention.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace proofmesh::kernels::cpu {
namespace {

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct mla_case {
  int64_t tokens = 3, first = 4, heads = 3, nope = 8, rope = 4, v = 6, latent = 10;
  int64_t positions() const { return first + tokens; }
};

// transformers' form: k[h] = [W_kb[h] c, r], v[h] = W_vb[h] c, then plain attention.
std::vector<float> expanded(const mla_case& m, const std::vector<float>& q,
                            const std::vector<float>& cache, const std::vector<float>& kv_b,
                            float scale) {
  const int64_t qk = m.nope + m.rope;
  std::vector<float> keys(static_cast<size_t>(m.positions() * m.heads * qk));
  std::vector<float> values(static_cast<size_t>(m.positions() * m.heads * qk), 0.0f);
  for (int64_t s = 0; s < m.positions(); ++s) {
    const float* c = cache.data() + s * (m.latent + m.rope);
    for (int64_t h = 0; h < m.heads; ++h) {
      float* k = keys.data() + (s * m.heads + h) * qk;
      float* val = values.data() + (s * m.heads + h) * qk;
      for (int64_t r = 0; r < m.nope + m.v; ++r) {
        float sum = 0;
        for (int64_t j = 0; j < m.latent; ++j) {
          sum += kv_b[static_cast<size_t>((h * (m.nope + m.v) + r) * m.latent + j)] * c[j];
        }
        (r < m.nope ? k[r] : val[r - m.nope]) = sum;
      }
      for (int64_t r = 0; r < m.rope; ++r) k[m.nope + r] = c[m.latent + r];
    }
  }
  // Values padded to qk wide so one head_dim serves both; the extra columns stay zero.
  std::vector<float> out(static_cast<size_t>(m.tokens * m.heads * qk));
  attention({.q = q.data(), .k_cache = keys.data(), .v_cache = values.data(), .out = out.data(),
             .tokens = m.tokens, .first_position = m.first, .heads = m.heads, .kv_heads = m.heads,
             .head_dim = qk, .q_stride = m.heads * qk, .out_stride = m.heads * qk, .scale = scale});
  std::vector<float> packed;
  for (int64_t t = 0; t < m.tokens; ++t) {
    for (int64_t h = 0; h < m.heads; ++h) {
      const float* o = out.data() + (t * m.heads + h) * qk;
      packed.insert(packed.end(), o, o + m.v);
    }
  }
  return packed;
}

TEST(mla_attention, absorbed_equals_expanded_keys_and_values) {
  const mla_case m;
  const auto q = random_values(static_cast<size_t>(m.tokens * m.heads * (m.nope + m.rope)), 1);
  const auto cache = random_values(static_cast<size_t>(m.positions() * (m.latent + m.rope)), 2);
  const auto kv_b = random_values(static_cast<size_t>(m.heads * (m.nope + m.v) * m.latent), 3);
  const float scale = 0.2f;
  std::vector<float> out(static_cast<size_t>(m.tokens * m.heads * m.v));
  mla_attention({.q = q.data(), .cache = cache.data(), .kv_b = kv_b.data(), .selected = nullptr,
                 .out = out.data(), .tokens = m.tokens, .first_position = m.first,
                 .heads = m.heads, .nope = m.nope, .rope = m.rope, .v = m.v, .latent = m.latent,
                 .q_stride = m.heads * (m.nope + m.rope), .out_stride = m.heads * m.v,
                 .selected_stride = 0, .scale = scale});
  const std::vector<float> ref = expanded(m, q, cache, kv_b, scale);
  ASSERT_EQ(out.size(), ref.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_NEAR(out[i], ref[i], 1e-4f * (1.0f + std::abs(ref[i]))) << i;
  }
}

// Listing every visible position is dense attention; listing fewer changes the answer.
TEST(mla_attention, selected_keys_restrict_attention) {
  const mla_case m{.tokens = 1, .first = 5};
  const auto q = random_values(static_cast<size_t>(m.heads * (m.nope + m.rope)), 4);
  const auto cache = random_values(static_cast<size_t>(m.positions() * (m.latent + m.rope)), 5);
  const auto kv_b = random_values(static_cast<size_t>(m.heads * (m.nope + m.v) * m.latent), 6);
  auto run = [&](const int32_t* selected, int64_t stride) {
    std::vector<float> out(static_cast<size_t>(m.heads * m.v));
    mla_attention({.q = q.data(), .cache = cache.data(), .kv_b = kv_b.data(),
                   .selected = selected, .out = out.data(), .tokens = 1, .first_position = m.first,
                   .heads = m.heads, .nope = m.nope, .rope = m.rope, .v = m.v,
                   .latent = m.latent, .q_stride = m.heads * (m.nope + m.rope),
                   .out_stride = m.heads * m.v, .selected_stride = stride, .scale = 0.3f});
    return out;
  };
  const std::vector<int32_t> all = {0, 1, 2, 3, 4, 5, -1, -1}; // ascending, as index_topk lists
  const std::vector<int32_t> some = {1, 4, -1, -1};
  EXPECT_EQ(run(all.data(), 8), run(nullptr, 0));
  // Only keys 1 and 4: the same as a cache of those two rows, seen from position 1.
  std::vector<float> two(cache.begin() + 1 * (m.latent + m.rope), cache.begin() + 2 * (m.latent + m.rope));
  two.insert(two.end(), cache.begin() + 4 * (m.latent + m.rope), cache.begin() + 5 * (m.latent + m.rope));
  std::vector<float> expect(static_cast<size_t>(m.heads * m.v));
  mla_attention({.q = q.data(), .cache = two.data(), .kv_b = kv_b.data(), .selected = nullptr,
                 .out = expect.data(), .tokens = 1, .first_position = 1, .heads = m.heads,
                 .nope = m.nope, .rope = m.rope, .v = m.v, .latent = m.latent,
                 .q_stride = m.heads * (m.nope + m.rope), .out_stride = m.heads * m.v,
                 .selected_stride = 0, .scale = 0.3f});
  const std::vector<float> got = run(some.data(), 4);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expect[i], 1e-5f) << i;
  }
}

} // namespace
} // namespace proofmesh::kernels::cpu
