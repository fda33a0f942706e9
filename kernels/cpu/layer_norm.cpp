#include "kernels/cpu/layer_norm.hpp"

#include <cmath>

namespace proofmesh::kernels::cpu {

void layer_norm(const layer_norm_params& p) {
  for (int64_t r = 0; r < p.rows; ++r) {
    const float* x = p.x + r * p.row_stride;
    float* out = p.out + r * p.row_stride;
    float mean = 0;
    for (int64_t i = 0; i < p.dim; ++i) {
      mean += x[i];
    }
    mean /= static_cast<float>(p.dim);
    float var = 0;
    for (int64_t i = 0; i < p.dim; ++i) {
      var += (x[i] - mean) * (x[i] - mean);
    }
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(p.dim) + p.eps);
    for (int64_t i = 0; i < p.dim; ++i) {
      out[i] = (x[i] - mean) * inv * p.weight[i] + p.bias[i];
    }
  }
}

} // namespace proofmesh::kernels::cpu
