// LayerNorm over each row in float32, as torch.nn.LayerNorm: (x - mean) / sqrt(var + eps) * w + b,
// with the biased variance. DeepSeek-V3.2's indexer normalises its keys with it.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct layer_norm_params {
  const float* x;      // [rows, dim], row stride row_stride
  const float* weight; // [dim]
  const float* bias;   // [dim]
  float* out;          // [rows, dim], row stride row_stride; may alias x
  int64_t rows;
  int64_t dim;
  int64_t row_stride;
  float eps;
};

void layer_norm(const layer_norm_params& p);

} // namespace proofmesh::kernels::cpu
