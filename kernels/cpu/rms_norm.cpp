#include "kernels/cpu/rms_norm.hpp"

#include <cmath>

namespace proofmesh::kernels::cpu {

void rms_norm(const rms_norm_params& p) {
  for (int64_t r = 0; r < p.rows; ++r) {
    float* x = p.x + r * p.row_stride;
    float* out = p.out + r * p.row_stride;
    if (p.residual) {
      const float* res = p.residual + r * p.row_stride;
      for (int64_t i = 0; i < p.dim; ++i) {
        x[i] += res[i];
      }
    }
    float sum = 0;
    for (int64_t i = 0; i < p.dim; ++i) {
      sum += x[i] * x[i];
    }
    float inv = 1.0f / std::sqrt(sum / static_cast<float>(p.dim) + p.eps);
    for (int64_t i = 0; i < p.dim; ++i) {
      out[i] = p.weight[i] * (x[i] * inv);
    }
  }
}

} // namespace proofmesh::kernels::cpu
