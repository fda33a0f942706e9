// RMSNorm as transformers computes it: x · rsqrt(mean(x²) + eps) · weight, all in float32.
// The optional residual add comes first and writes the summed stream back, so the decoder layer
// reads `h = h + attn; x = norm(h)` as one call.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct rms_norm_params {
  float* x;              // [rows, dim] input; with a residual, receives x + residual
  const float* residual; // [rows, dim] added to x first, or nullptr
  const float* weight;   // [dim]
  float* out;            // [rows, dim] normalised output (may alias x only without residual)
  int64_t rows;
  int64_t dim;
  int64_t row_stride;    // elements between rows of x, residual and out
  float eps;
};

void rms_norm(const rms_norm_params& p);

} // namespace proofmesh::kernels::cpu
