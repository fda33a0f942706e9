#include "kernels/cpu/mla_attention.hpp"

#include "actors/common/thread_pool.hpp"
#include "kernels/cpu/matmul.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace proofmesh::kernels::cpu {

void mla_attention(const mla_attention_params& p) {
  const int64_t row = p.latent + p.rope;
  const int64_t head_rows = p.nope + p.v;
  const auto work = static_cast<size_t>(p.tokens * p.heads);
  thread_pool::global().parallel_for(work, [&](size_t begin, size_t end) {
    std::vector<float> q_latent(static_cast<size_t>(p.latent));
    std::vector<float> summed(static_cast<size_t>(p.latent));
    std::vector<int64_t> keys;
    std::vector<float> scores;
    for (size_t item = begin; item < end; ++item) {
      const int64_t t = static_cast<int64_t>(item) / p.heads;
      const int64_t h = static_cast<int64_t>(item) % p.heads;
      keys.clear();
      if (p.selected != nullptr) {
        for (int64_t i = 0; i < p.selected_stride; ++i) {
          const int32_t s = p.selected[t * p.selected_stride + i];
          if (s >= 0) {
            keys.push_back(s);
          }
        }
      } else {
        for (int64_t s = 0; s <= p.first_position + t; ++s) {
          keys.push_back(s);
        }
      }
      const float* q = p.q + t * p.q_stride + h * (p.nope + p.rope);
      const float* w_kb = p.kv_b + h * head_rows * p.latent;
      const float* w_vb = w_kb + p.nope * p.latent;
      // Absorb W_kb into the query: q_latent = W_kb^T q_nope.
      std::fill(q_latent.begin(), q_latent.end(), 0.0f);
      for (int64_t n = 0; n < p.nope; ++n) {
        for (int64_t j = 0; j < p.latent; ++j) {
          q_latent[static_cast<size_t>(j)] += q[n] * w_kb[n * p.latent + j];
        }
      }
      scores.resize(keys.size());
      float max_score = -INFINITY;
      for (size_t i = 0; i < keys.size(); ++i) {
        const float* c = p.cache + keys[i] * row;
        const float sc = (dot(q_latent.data(), c, p.latent) + dot(q + p.nope, c + p.latent, p.rope)) *
                         p.scale;
        scores[i] = sc;
        max_score = std::max(max_score, sc);
      }
      float sum = 0;
      for (float& sc : scores) {
        sc = std::exp(sc - max_score);
        sum += sc;
      }
      std::fill(summed.begin(), summed.end(), 0.0f);
      for (size_t i = 0; i < keys.size(); ++i) {
        const float w = scores[i] / sum;
        const float* c = p.cache + keys[i] * row;
        for (int64_t j = 0; j < p.latent; ++j) {
          summed[static_cast<size_t>(j)] += w * c[j];
        }
      }
      float* out = p.out + t * p.out_stride + h * p.v;
      for (int64_t d = 0; d < p.v; ++d) {
        out[d] = dot(w_vb + d * p.latent, summed.data(), p.latent);
      }
    }
  });
}

} // namespace proofmesh::kernels::cpu
