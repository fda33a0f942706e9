// Gathers rows of a table by index: the token embedding lookup, and the picking of the hidden
// rows whose logits are wanted. T in {float, bf16}; a plain copy, so results are bitwise.
// Rules of the road: callers validate ids; an id outside [0, num_rows) still never reads out of
// bounds, its output row is written as zeros.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct gather_rows_params {
  const T* table;        // [num_rows, dim], rows table_stride apart
  const int32_t* ids;    // [count] rows to gather
  T* out;                // [count, dim] contiguous
  int64_t count;
  int64_t dim;
  int64_t table_stride;  // elements between table rows; >= dim
  int64_t num_rows;
};

/// cudaErrorInvalidValue on negative sizes, dim <= 0, table_stride < dim or null pointers;
/// count == 0 is a no-op.
template <typename T>
cudaError_t gather_rows(const gather_rows_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
