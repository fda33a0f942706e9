#include "kernels/cpu/moe_route.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace proofmesh::kernels::cpu {

namespace {

// The indices of the `count` largest of `values`, best first, ties to the lower index.
std::vector<int32_t> top_indices(const std::vector<float>& values, int64_t count) {
  std::vector<int32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + count, order.end(), [&](int32_t a, int32_t b) {
    const float va = values[static_cast<size_t>(a)], vb = values[static_cast<size_t>(b)];
    return va != vb ? va > vb : a < b;
  });
  order.resize(static_cast<size_t>(count));
  return order;
}

} // namespace

void moe_route(const moe_route_params& p) {
  const int64_t per_group = p.experts / p.groups;
  std::vector<float> scores(static_cast<size_t>(p.experts));
  std::vector<float> choice(static_cast<size_t>(p.experts));
  std::vector<float> group_scores(static_cast<size_t>(p.groups));
  for (int64_t t = 0; t < p.tokens; ++t) {
    for (int64_t e = 0; e < p.experts; ++e) {
      const float s = 1.0f / (1.0f + std::exp(-p.logits[t * p.experts + e]));
      scores[static_cast<size_t>(e)] = s;
      choice[static_cast<size_t>(e)] = s + p.bias[e];
    }
    for (int64_t g = 0; g < p.groups; ++g) {
      const std::vector<float> members(choice.begin() + g * per_group,
                                       choice.begin() + (g + 1) * per_group);
      const std::vector<int32_t> best = top_indices(members, 2);
      group_scores[static_cast<size_t>(g)] = members[static_cast<size_t>(best[0])] +
                                              members[static_cast<size_t>(best[1])];
    }
    std::vector<bool> kept(static_cast<size_t>(p.groups), false);
    for (int32_t g : top_indices(group_scores, p.groups_kept)) {
      kept[static_cast<size_t>(g)] = true;
    }
    std::vector<float> masked = choice;
    for (int64_t e = 0; e < p.experts; ++e) {
      if (!kept[static_cast<size_t>(e / per_group)]) {
        masked[static_cast<size_t>(e)] = -INFINITY;
      }
    }
    const std::vector<int32_t> chosen = top_indices(masked, p.per_token);
    float sum = 0;
    for (int32_t e : chosen) {
      sum += scores[static_cast<size_t>(e)];
    }
    for (int64_t k = 0; k < p.per_token; ++k) {
      const int32_t e = chosen[static_cast<size_t>(k)];
      float w = scores[static_cast<size_t>(e)];
      if (p.normalize) {
        w /= sum + 1e-20f;
      }
      p.experts_out[t * p.per_token + k] = e;
      p.weights_out[t * p.per_token + k] = w * p.scaling;
    }
  }
}

} // namespace proofmesh::kernels::cpu
