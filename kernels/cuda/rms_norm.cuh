// RMSNorm fused with the residual add, for T in {float, bf16}, float32 arithmetic.
// Rules of the road: the same function as kernels/cpu/rms_norm: with a residual, x += residual is
// stored in T first and the normalised row is computed from what was stored (the residual stream
// lives in T); out = weight * (x * 1/sqrt(mean(x²) + eps)). Each normalised row ("sub-row") has
// length dim; heads_per_row sub-rows sit back to back inside each outer row, so QK-norm runs over
// the q or k heads inside the fused qkv buffer in one call. out may alias x (with or without a
// residual): every element is read and written by the same thread, after the row sum is known.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

/// Element i of sub-row r (r in [0, rows * heads_per_row)) of x, residual and out sits at
/// (r / heads_per_row) * row_stride + (r % heads_per_row) * dim + i.
template <typename T>
struct rms_norm_params {
  T* x;                  // [rows, heads_per_row, dim], rows row_stride apart; with a residual, receives x + residual
  const T* residual;     // [rows, heads_per_row, dim] like x, or nullptr
  const T* weight;       // [dim]
  T* out;                // [rows, heads_per_row, dim] like x; may alias x
  int64_t rows;          // outer rows (tokens)
  int64_t dim;           // length of each normalised sub-row
  int64_t row_stride;    // elements between outer rows; >= heads_per_row * dim
  float eps;
  int64_t heads_per_row = 1; // sub-rows packed in each outer row (1 for the hidden-state norm)
};

/// cudaErrorInvalidValue on negative sizes, dim <= 0, heads_per_row <= 0, row_stride too small
/// or null pointers; rows == 0 is a no-op.
template <typename T>
cudaError_t rms_norm(const rms_norm_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
