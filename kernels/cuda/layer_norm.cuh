// LayerNorm over each row, for T in {float, bf16}, float32 arithmetic: the same function as
// kernels/cpu/layer_norm (mean, biased variance, (x - mean) / sqrt(var + eps) * w + b). DeepSeek-
// V3.2's indexer normalises its keys with it. out may alias x.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct layer_norm_params {
  const T* x;       // [rows, dim], rows row_stride apart
  const T* weight;  // [dim]
  const T* bias;    // [dim]
  T* out;           // [rows, dim] like x; may alias x
  int64_t rows;
  int64_t dim;
  int64_t row_stride; // >= dim
  float eps;
};

/// cudaErrorInvalidValue on negative sizes, dim <= 0, a row_stride too small or null pointers;
/// rows == 0 is a no-op.
template <typename T>
cudaError_t layer_norm(const layer_norm_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
