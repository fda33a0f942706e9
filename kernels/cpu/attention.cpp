#include "kernels/cpu/attention.hpp"

#include "actors/common/thread_pool.hpp"
#include "kernels/cpu/matmul.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace proofmesh::kernels::cpu {

void attention(const attention_params& p) {
  int64_t group = p.heads / p.kv_heads;
  int64_t kv_stride = p.kv_heads * p.head_dim;
  size_t work = static_cast<size_t>(p.tokens * p.heads);
  thread_pool::global().parallel_for(work, [&](size_t begin, size_t end) {
    std::vector<float> scores;
    for (size_t item = begin; item < end; ++item) {
      int64_t t = static_cast<int64_t>(item) / p.heads;
      int64_t h = static_cast<int64_t>(item) % p.heads;
      int64_t kvh = h / group;
      int64_t visible = p.first_position + t + 1;
      const float* q = p.q + t * p.q_stride + h * p.head_dim;
      scores.resize(static_cast<size_t>(visible));
      float max_score = -INFINITY;
      for (int64_t s = 0; s < visible; ++s) {
        float sc = dot(q, p.k_cache + s * kv_stride + kvh * p.head_dim, p.head_dim) * p.scale;
        scores[static_cast<size_t>(s)] = sc;
        max_score = std::max(max_score, sc);
      }
      float sum = 0;
      for (auto& sc : scores) {
        sc = std::exp(sc - max_score);
        sum += sc;
      }
      float* out = p.out + t * p.out_stride + h * p.head_dim;
      std::fill(out, out + p.head_dim, 0.0f);
      for (int64_t s = 0; s < visible; ++s) {
        float w = scores[static_cast<size_t>(s)] / sum;
        const float* v = p.v_cache + s * kv_stride + kvh * p.head_dim;
        for (int64_t d = 0; d < p.head_dim; ++d) {
          out[d] += w * v[d];
        }
      }
    }
  });
}

} // namespace proofmesh::kernels::cpu
