// DeepSeek-V3.2's lightning indexer over a paged key cache, for T in {float, bf16}, float32
// arithmetic: the same function as kernels/cpu/index_topk. Two launches:
// 1. Scores: score[t, s] = sum_h w[t, h] * weight_scale * relu(scale * q[t, h] . k[s]) for every
//    position s up to the token's own (float32 workspace, max_positions per token).
// 2. Select: per token, the min(topk, visible) best by an exact radix select on the scores' bits,
//    ties to the earlier key, listed in ascending position and -1 padded: the CPU's choice.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr int64_t max_index_query = 16384; // heads * head_dim, held in shared memory
inline constexpr int64_t max_index_head_dim = 1024;

template <typename T>
struct index_topk_params {
  const T* q;                  // [tokens, heads, head_dim], rows q_stride apart
  const T* keys;               // the layer's pool: [num_blocks, block_size, head_dim]
  const T* weights;            // [tokens, heads], rows weights_stride apart
  const int32_t* block_tables; // [batch, max_blocks_per_seq]
  const int32_t* token_seq;    // [tokens]
  const int32_t* token_pos;    // [tokens]
  int32_t* selected;           // [tokens, topk] out
  float* scores;               // workspace [tokens, max_positions]
  int64_t tokens;
  int64_t heads;
  int64_t head_dim;
  int64_t topk;
  int64_t q_stride;
  int64_t weights_stride;
  int64_t block_size;
  int64_t max_blocks_per_seq;
  int64_t max_positions;       // > every token's position; the scores' row length
  float scale;
  float weight_scale;
};

/// cudaErrorInvalidValue on negative sizes, non-positive dimensions, a query wider than
/// max_index_query, strides too small or null pointers; tokens == 0 is a no-op.
template <typename T>
cudaError_t index_topk(const index_topk_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
