// The tensor-core form of paged attention (bf16, head_dim 64 or 128), which paged_attention
// dispatches to; callers use paged_attention, not this header.
// A block owns one kv head and a run of query rows; a row is a (token, head of the kv head's GQA
// group) pair, so each K/V tile read from the cache serves the whole group. K and V tiles of 64
// keys stream into shared memory by cp.async, two stages deep; scores and the weighted sum of
// values are bf16 mma.sync with float32 accumulators; the softmax is online, in float32, with
// the probabilities rounded to bf16 for the second product (as flash attention does).
// Two forms:
//   prefill  4 warps of 16 rows each: a block takes 64 / group consecutive tokens and attends
//            each run of them that shares a sequence, over the keys up to the run's last
//            position, masked per row to the row's own position;
//   decode   (max_query_tokens == 1 and a group of at most 16 heads) a block takes one token and
//            its group's rows; the 4 warps split every key tile and merge through shared memory;
//            with num_splits > 1 grid z splits the keys too and the block writes its partial
//            (acc, max, sum) to the workspace for paged_attention's merge.
#pragma once

#include "kernels/cuda/paged_attention.cuh"

namespace proofmesh::kernels::cuda {

/// Whether the tensor-core kernel serves this launch: head_dim 64 or 128; q, the caches and q's
/// row stride 16-byte aligned; a GQA group of at most 64 heads.
bool flash_attention_supports(const paged_attention_params<__nv_bfloat16>& p);

/// Whether a supported launch takes the decode form and, with num_splits > 1, leaves partials in
/// the workspace for the merge.
bool flash_attention_writes_partials(const paged_attention_params<__nv_bfloat16>& p);

/// Launches the kernel; `split_keys` keys per split (a multiple of 64) in the decode form.
cudaError_t flash_attention(const paged_attention_params<__nv_bfloat16>& p, int split_keys,
                            cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
