// The tensor-core middle of MLA in bf16 (mla_attention's fast path, DeepSeek-V3's widths: a
// latent of 512 and a rope key of 64): attention in the absorbed MQA form, every head of a token
// against the same cache rows, with the token's keys either every position up to its own or the
// indexer's list. Used by mla_attention.cu, which absorbs before it and expands after it with
// batched GEMMs; not a public interface.
// Rules of the road: a block owns one token and 64 of its heads (rows past `heads` compute on
// zeros and are not written), and the key list is cut into `splits` ranges of `split_keys`
// along grid z. With one split the block writes o_latent; with more, each writes its unscaled
// partial sums, max and sum to `partials`, and a merge kernel combines them. A token without a
// valid sequence and position, or without a key it may see, gets zeros (as the CPU reference).
#pragma once

#include "kernels/cuda/mla_attention.cuh"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr int64_t mla_flash_latent = 512;
inline constexpr int64_t mla_flash_rope = 64;
inline constexpr int64_t mla_flash_heads = 64;     // heads per block
inline constexpr int64_t mla_flash_max_splits = 32;
inline constexpr int mla_flash_partial_width = 512 + 4; // sums, max, sum, 2 of padding so that
                                                        // rows stay 16-byte aligned

struct mla_flash_args {
  const __nv_bfloat16* q_latent; // [tokens, heads, 512] the absorbed queries (the rope part is
                                 // read from p.q)
  __nv_bfloat16* o_latent;       // [tokens, heads, 512]
  float* partials;               // [tokens, heads, splits, mla_flash_partial_width] (sums, max
                                 // in natural-log units, sum of weights); only with splits > 1
  int64_t splits;
  int64_t split_keys;            // keys of the list per split, a multiple of the 32-key tile
};

/// Whether p takes the fast path: bf16, the widths above, rows and pointers 16-byte aligned.
bool mla_flash_supports(const mla_attention_params<__nv_bfloat16>& p);

/// The split plan for p on the current device: one split once the blocks fill the GPU, else
/// enough to fill it, each at least two tiles of the longest key list p allows.
mla_flash_args mla_flash_plan(const mla_attention_params<__nv_bfloat16>& p);

/// The attention, then (splits > 1) the merge, on `stream`.
cudaError_t mla_flash_attend(const mla_attention_params<__nv_bfloat16>& p,
                             const mla_flash_args& a, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
