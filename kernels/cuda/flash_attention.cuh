// The tensor-core form of paged attention (bf16, head_dim 64 or 128), which paged_attention
// dispatches to; callers use paged_attention, not this header.
// A block owns one kv head and a run of query rows; a row is a (token, head of the kv head's GQA
// group) pair, so each K/V tile read from the cache serves the whole group. K and V tiles of 64
// keys stream into shared memory by cp.async, three stages deep; scores and the weighted sum of
// values are bf16 mma.sync with float32 accumulators (wgmma in the prefill form at head_dim 128
// on sm_90a); the softmax is online, in float32, with the probabilities rounded to bf16 for the
// second product (as flash attention does).
// Two forms:
//   prefill  4 warps of 16 rows each: a block takes 64 / group consecutive tokens and attends
//            each run of them that shares a sequence, over the keys up to the run's last
//            position, masked per row to the row's own position;
//   decode   (a group of at most 16 heads; for decode batches, and for a mixed batch's lone tokens
//            in a second launch, so that no prefill block walks them one by one) a block takes
//            one token and its group's rows; the 4 warps split every key tile and merge
//            through shared memory; with num_splits > 1 grid z splits the keys too and the block
//            writes its partial (acc, max, sum) to the workspace for paged_attention's merge.
#pragma once

#include "kernels/cuda/paged_attention.cuh"

namespace proofmesh::kernels::cuda {

/// Which tokens a launch attends. A lone token is the only token of its sequence in the launch
/// (its neighbours belong to other sequences: the caller lays each sequence's tokens together);
/// mixed batches give runs to the prefill form and lone tokens (decodes) to the decode form.
enum class attention_tokens : int { all = 0, lone = 1, in_runs = 2 };

/// Whether the tensor-core kernel serves this launch: head_dim 64 or 128; q, the caches and q's
/// row stride 16-byte aligned; a GQA group of at most 64 heads.
template <typename C>
bool flash_attention_supports(const paged_attention_params<__nv_bfloat16, C>& p);

/// Whether the decode form fits: a GQA group of at most 16 heads (one mma row tile).
template <typename C>
bool flash_decode_form_fits(const paged_attention_params<__nv_bfloat16, C>& p);

/// Launches one form over the tokens `which` selects; the decode form with num_splits > 1 splits
/// the keys into ranges of `split_keys` (a multiple of 64) and leaves partials in the workspace.
/// C: __nv_bfloat16, or __nv_fp8_e4m3 for an FP8 cache (the decode form reads its codes into
/// f16 fragments; the prefill form widens each tile to bf16 once).
template <typename C>
cudaError_t flash_attention(const paged_attention_params<__nv_bfloat16, C>& p, bool decode_form,
                            attention_tokens which, int split_keys, cudaStream_t stream);

/// A token's membership in `which`, for the split merge: seq[t] against its neighbours.
__device__ __forceinline__ bool attention_token_selected(const int32_t* token_seq, int64_t tokens,
                                                        int64_t t, attention_tokens which) {
  if (which == attention_tokens::all) {
    return true;
  }
  const int32_t seq = token_seq[t];
  const bool lone = (t == 0 || token_seq[t - 1] != seq) &&
                    (t == tokens - 1 || token_seq[t + 1] != seq);
  return lone == (which == attention_tokens::lone);
}

} // namespace proofmesh::kernels::cuda
