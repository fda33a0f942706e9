// DeepSeek's multi-head latent attention over a paged latent cache, for T in {float, bf16}: the
// same function as kernels/cpu/mla_attention, in three steps.
// 1. Absorb: q_latent[t, h] = [W_kb[h]^T q_nope[t, h], q_rope[t, h]].
// 2. Attend in MQA form, every head against the same cache rows (all positions up to the
//    token's own, or the indexer's list): score = q_latent . cache row, softmax, and sums of the
//    latents (the first `latent` values of each row).
// 3. Expand: out[t, h] = W_vb[h] o_latent[t, h].
// Two paths. In bf16 at DeepSeek-V3's widths (latent 512, rope 64; mla_flash.cuh) absorb and
// expand are batched GEMMs over the heads and attend runs on tensor cores, its workspaces bf16
// (q_latent and o_latent rounded once, as FlashMLA's absorbed form does). Otherwise (float, the
// exactness path, and other widths) three plain kernels in float32 arithmetic: one block per
// (token, head) that reads W_kb[h] and W_vb[h] itself, one warp per (token, head) walking its
// keys.
// Rules of the road: the cache row of a position is [normed latent, roped key], latent + rope
// values (at most max_mla_row); kv_b stacks per head W_kb [nope, latent] then W_vb [v, latent].
#pragma once

#include "kernels/cuda/gemm.cuh"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
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
  float* workspace;             // [mla_attention_workspace_floats(this)]
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

/// Floats of workspace that mla_attention needs for p's sizes and path on the current device
/// (the bf16 path splits the keys of small batches, and keeps the splits' partial sums).
template <typename T>
size_t mla_attention_workspace_floats(const mla_attention_params<T>& p);

/// cudaErrorInvalidValue on negative sizes, non-positive dimensions, a row wider than
/// max_mla_row, strides too small or null pointers; tokens == 0 is a no-op. `handle` serves the
/// bf16 path's projections (its workspace: one stream at a time).
template <typename T>
cudaError_t mla_attention(gemm_handle& handle, const mla_attention_params<T>& p,
                          cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
