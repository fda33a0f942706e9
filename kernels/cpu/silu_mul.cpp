#include "kernels/cpu/silu_mul.hpp"

#include <cmath>

namespace proofmesh::kernels::cpu {

void silu_mul(const silu_mul_params& p) {
  for (int64_t i = 0; i < p.n; ++i) {
    float g = p.gate[i];
    p.out[i] = (g / (1.0f + std::exp(-g))) * p.up[i];
  }
}

} // namespace proofmesh::kernels::cpu
