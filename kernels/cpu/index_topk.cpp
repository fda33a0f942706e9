#include "kernels/cpu/index_topk.hpp"

#include "actors/common/thread_pool.hpp"
#include "kernels/cpu/matmul.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace proofmesh::kernels::cpu {

void index_topk(const index_topk_params& p) {
  thread_pool::global().parallel_for(static_cast<size_t>(p.tokens), [&](size_t begin, size_t end) {
    std::vector<float> scores;
    std::vector<int32_t> order;
    for (size_t ti = begin; ti < end; ++ti) {
      const auto t = static_cast<int64_t>(ti);
      const int64_t visible = p.first_position + t + 1;
      scores.assign(static_cast<size_t>(visible), 0.0f);
      for (int64_t h = 0; h < p.heads; ++h) {
        const float* q = p.q + t * p.q_stride + h * p.head_dim;
        const float w = p.weights[t * p.weights_stride + h] * p.weight_scale;
        for (int64_t s = 0; s < visible; ++s) {
          const float dot_qk = dot(q, p.keys + s * p.head_dim, p.head_dim) * p.scale;
          scores[static_cast<size_t>(s)] += w * std::max(dot_qk, 0.0f);
        }
      }
      order.resize(static_cast<size_t>(visible));
      std::iota(order.begin(), order.end(), 0);
      const auto kept = static_cast<size_t>(std::min(p.topk, visible));
      std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(kept), order.end(),
                        [&](int32_t a, int32_t b) {
                          const float sa = scores[static_cast<size_t>(a)];
                          const float sb = scores[static_cast<size_t>(b)];
                          return sa != sb ? sa > sb : a < b;
                        });
      std::sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(kept));
      int32_t* out = p.selected + t * p.topk;
      for (int64_t i = 0; i < p.topk; ++i) {
        out[i] = static_cast<size_t>(i) < kept ? order[static_cast<size_t>(i)] : -1;
      }
    }
  });
}

} // namespace proofmesh::kernels::cpu
