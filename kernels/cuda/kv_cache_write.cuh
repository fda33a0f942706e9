// Writes the current tokens' keys and values into the paged KV cache of one layer.
// Rules of the road: the cache of a layer is [num_blocks, block_size, kv_heads, head_dim], so a
// slot (block * block_size + offset) is one contiguous row of kv_heads * head_dim elements. A
// negative slot means "do not store" (a token whose K/V are not kept); a slot past the cache is
// skipped too, so a bad slot never writes out of bounds (callers validate). Two tokens must not
// name the same slot in one call. The copy is bitwise.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct kv_cache_write_params {
  const T* k;            // [tokens, kv_heads*head_dim], rows src_stride apart
  const T* v;            // [tokens, kv_heads*head_dim], rows src_stride apart; or nullptr
  T* k_cache;            // [num_blocks, block_size, kv_heads, head_dim]
  T* v_cache;            // [num_blocks, block_size, kv_heads, head_dim]; nullptr with v: keys only
  const int32_t* slots;  // [tokens]: block * block_size + offset; negative = skip
  int64_t tokens;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t src_stride;    // elements between token rows of k and of v; >= kv_heads * head_dim
  int64_t block_size;    // slots per block
  int64_t num_blocks;
};

/// cudaErrorInvalidValue on negative sizes, kv_heads/head_dim/block_size <= 0, a src_stride too
/// small or null pointers; tokens == 0 is a no-op.
template <typename T>
cudaError_t kv_cache_write(const kv_cache_write_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
