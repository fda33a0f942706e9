// RMSNorm fused with the residual add, bf16 in and out, float32 accumulation.
// Rules of the road: one block per row; the residual stream is updated in place (x += residual)
// and the normalised row is written to out, exactly as kernels/cpu/rms_norm does in float32.
// The launcher takes raw pointers and strides, the stream last, and returns a status.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

struct rms_norm_params {
  __nv_bfloat16* x;              // [rows, dim]; with a residual, receives x + residual
  const __nv_bfloat16* residual; // [rows, dim] or nullptr
  const __nv_bfloat16* weight;   // [dim]
  __nv_bfloat16* out;            // [rows, dim]
  int64_t rows;
  int64_t dim;
  int64_t row_stride;            // elements between rows
  float eps;
};

cudaError_t rms_norm(const rms_norm_params& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
