// The gated MLP's activation: out = silu(gate) · up, elementwise, in float32.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct silu_mul_params {
  const float* gate; // [n]
  const float* up;   // [n]
  float* out;        // [n], may alias gate
  int64_t n;
};

void silu_mul(const silu_mul_params& p);

} // namespace proofmesh::kernels::cpu
