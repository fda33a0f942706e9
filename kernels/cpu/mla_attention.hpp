// DeepSeek's multi-head latent attention over one sequence's latent cache, in float32.
// Rules of the road: the cache holds per position the normed latent c (latent values) and the
// shared roped key r (rope values). Head h's key is [W_kb[h] c, r] and its value W_vb[h] c, where
// kv_b stacks per head W_kb [nope, latent] then W_vb [v, latent]. We absorb: q_nope[h] . W_kb[h] c
// = (W_kb[h]^T q_nope[h]) . c, and sum the softmax-weighted latents before W_vb, so keys and
// values are never expanded (the decode form; prefill computes the same). Query token t sits at
// absolute position first_position + t and sees positions [0, first_position + t], or only the
// listed ones when `selected` is given (DSA).
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct mla_attention_params {
  const float* q;          // [tokens, heads, nope + rope], row stride q_stride
  const float* cache;      // [positions, latent + rope], contiguous
  const float* kv_b;       // [heads * (nope + v), latent]
  const int32_t* selected; // [tokens, selected_stride] visible positions, -1 padded; or nullptr
  float* out;              // [tokens, heads * v], row stride out_stride
  int64_t tokens;
  int64_t first_position;  // absolute position of query token 0
  int64_t heads;
  int64_t nope;
  int64_t rope;
  int64_t v;
  int64_t latent;
  int64_t q_stride;
  int64_t out_stride;
  int64_t selected_stride;
  float scale;
};

void mla_attention(const mla_attention_params& p);

} // namespace proofmesh::kernels::cpu
