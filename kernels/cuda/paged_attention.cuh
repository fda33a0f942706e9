// Causal attention of a batch of query tokens, from any number of sequences, over the paged KV
// cache of one layer. One kernel serves prefill, chunked prefill and decode, mixed in one launch.
// Rules of the road: the current tokens' K/V are already in the cache (kv_cache_write runs
// first). Query token t of sequence token_seq[t] sits at position token_pos[t] and sees cache
// positions [0, token_pos[t]]; position j of sequence s lives in physical block
// block_tables[s][j / block_size] at offset j % block_size. GQA: query head h reads kv head
// h / (heads / kv_heads). Scores and softmax are float32; the softmax subtracts the running max
// (online softmax, as flash attention does), so it matches torch's max-subtracted softmax up to
// rounding. The block table is trusted (ids in [0, num_blocks)); a token whose sequence or
// position is negative, or whose position lies past its block table, gets NaN output (loud,
// never an out-of-bounds read).
// Flash-decoding: with num_splits > 1 each (token, head) splits its keys into num_splits equal
// ranges (multiples of 32 keys) that run in parallel, each keeping its own running max, sum and
// unnormalised output in the workspace; a second kernel rescales and merges them. A decode batch
// of a few sequences over a long context would otherwise occupy a handful of multiprocessors.
// paged_attention_splits plans the count; results agree with the unsplit path up to rounding.
// bf16 launches of head_dim 64 or 128 run on tensor cores (flash_attention.cuh); their
// probabilities are rounded to bf16 before the product with V, as flash attention's are.
// An FP8 cache (C = __nv_fp8_e4m3, with T = bf16) holds e4m3 codes and a float scale per (slot,
// kv head), as kv_cache_write_fp8 writes them; only the tensor-core kernel reads it (its decode
// form straight into f16 fragments, its prefill form widening each tile to bf16 once).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr int64_t max_attention_head_dim = 256;
inline constexpr int32_t max_attention_splits = 32;

template <typename T, typename C = T>
struct paged_attention_params {
  const T* q;                   // [tokens, heads, head_dim] at q + t*q_stride + h*head_dim
  const C* k_cache;             // [num_blocks, block_size, kv_heads, head_dim]
  const C* v_cache;             // [num_blocks, block_size, kv_heads, head_dim]
  const int32_t* block_tables;  // [num_seqs, max_blocks_per_seq] physical block ids
  const int32_t* token_seq;     // [tokens] sequence index of each query token
  const int32_t* token_pos;     // [tokens] absolute position; the token attends to [0, pos]
  T* out;                       // [tokens, heads, head_dim] at out + t*out_stride + h*head_dim
  int64_t tokens;
  int64_t heads;                // multiple of kv_heads
  int64_t kv_heads;
  int64_t head_dim;             // 1..max_attention_head_dim
  int64_t q_stride;             // elements between tokens of q; >= heads * head_dim
  int64_t out_stride;           // elements between tokens of out; >= heads * head_dim
  int64_t block_size;           // cache slots per block
  int64_t max_blocks_per_seq;   // row length of block_tables
  float scale;                  // softmax scale, usually 1 / sqrt(head_dim)
  int32_t num_splits = 1;       // key ranges per (token, head), 1..max_attention_splits
  float* workspace = nullptr;   // [tokens, heads, num_splits, head_dim + 2] when num_splits > 1
  // The most query tokens any one sequence has in this launch, when the caller knows it (each
  // sequence's tokens laid together). The tensor-core kernel then gives a decode batch (1) its
  // decode form, a block per token whose warps split the keys; a mixed batch (2 or more) its
  // prefill form for the runs and the decode form for the lone tokens; 0 (unknown) the prefill
  // form throughout. Every choice is correct for any batch; only the speed differs.
  int32_t max_query_tokens = 0;
  const float* k_scales = nullptr; // FP8 cache: [num_blocks, block_size, kv_heads]
  const float* v_scales = nullptr; // FP8 cache: [num_blocks, block_size, kv_heads]
};

using fp8_attention_params = paged_attention_params<__nv_bfloat16, __nv_fp8_e4m3>;

/// The split count for a launch: enough blocks for 8 per multiprocessor, and at least 32 keys
/// (one tile) per split; 1 for short contexts or big batches.
int32_t paged_attention_splits(int64_t tokens, int64_t heads, int64_t max_context, int num_sms);

/// Floats of workspace a launch with `num_splits` needs (0 when it is 1).
size_t paged_attention_workspace_floats(int64_t tokens, int64_t heads, int64_t head_dim,
                                        int32_t num_splits);

/// cudaErrorInvalidValue on negative sizes, head_dim outside [1, 256], heads not a multiple of
/// kv_heads, strides too small, num_splits outside [1, 32], or null pointers (the workspace too,
/// when num_splits > 1; the scales, for an FP8 cache); cudaErrorNotSupported for an FP8 cache
/// the tensor-core kernel does not serve (flash_attention_supports); tokens == 0 is a no-op.
template <typename T, typename C = T>
cudaError_t paged_attention(const paged_attention_params<T, C>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
