// DeepSeek's block-scaled FP8 weights to the compute type: out[r, c] = e4m3(q[r, c]) *
// scale[r / block_rows, c / block_cols], the product in float32 then rounded once to T, as
// actors/engine/weights/fp8_weight's dequantize_fp8 (the CPU's) computes it. Works on a chunk of
// the matrix (elements [first, first + count) in row-major order), so a weight streams through
// the upload's staging buffers.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct fp8_dequant_params {
  const uint8_t* q;     // [count] e4m3 bytes: elements first .. first + count of the matrix
  const float* scale;   // [ceil(rows / block_rows), ceil(cols / block_cols)]
  T* out;               // [count]
  int64_t first;        // row-major index of q[0] in the matrix
  int64_t count;
  int64_t cols;         // of the matrix
  int64_t block_rows;
  int64_t block_cols;
};

/// cudaErrorInvalidValue on negative sizes, cols or blocks <= 0 or null pointers; count == 0 is
/// a no-op.
template <typename T>
cudaError_t fp8_dequant(const fp8_dequant_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
