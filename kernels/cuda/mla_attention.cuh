// DeepSeek's multi-head latent attention over a paged latent cache, for T in {float, bf16},
// float32 arithmetic: the same function as kernels/cpu/mla_attention, in three launches.
// 1. Absorb: q_latent[t, h] = [W_kb[h]^T q_nope[t, h], q_rope[t, h]] (float32 workspace).
// 2. Attend: one warp per (token, head) walks its keys (all positions up to its own, or the
//    indexer's list) in MQA form: score = q_latent . cache row, online softmax, and sums the
//    latents (the first `latent` values of each row).
// 3. Expand: out[t, h] = W_vb[h] o_latent[t, h].
// Rules of the road: the cache row of a position is [normed latent, roped key], latent + rope
// values (at most max_mla_row); kv_b stacks per head W_kb [nope, latent] then W_vb [v, latent].
// Correct first: every (token, head) reads W_kb[h] and W_vb[h] itself (the fast decode kernel is
// later work), and the key loop is sequential per warp.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr int64_t max_mla_row = 1024;

template <typename T>
struct mla_attention_params {
  const T* q;                  // [tokens, heads, nope + rope], rows q_stride apart
  const T* kv_b;               // [heads * (nope + v), latent]
  const T* cache;              // the layer's pool: [num_blocks, block_size, latent + rope]
  const int32_t* block_tables; // [batch, max_blocks_per_seq]
  const int32_t* token_seq;    // [tokens] batch item of each token
  const int32_t* token_pos;    // [tokens] absolute position of each token
  const int32_t* selected;     // [tokens, topk] positions, -1 padded; nullptr: every position
  T* out;                      // [tokens, heads * v], rows out_stride apart
  float* q_latent;             // workspace [tokens, heads, latent + rope]
  float* o_latent;             // workspace [tokens, heads, latent]
  int64_t tokens;
  int64_t heads;
  int64_t nope;
  int64_t rope;
  int64_t v;
  int64_t latent;
  int64_t q_stride;
  int64_t out_stride;
  int64_t block_size;
  int64_t max_blocks_per_seq;
  int64_t topk;                // row length of `selected`
  float scale;
};

/// cudaErrorInvalidValue on negative sizes, non-positive dimensions, a row wider than
/// max_mla_row, strides too small or null pointers; tokens == 0 is a no-op.
template <typename T>
cudaError_t mla_attention(const mla_attention_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
