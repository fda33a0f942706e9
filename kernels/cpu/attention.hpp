// Causal attention of new query tokens over one sequence's cached keys and values (float32).
// Rules of the road: query token t sits at absolute position first_position + t and sees cache
// rows [0, first_position + t]. GQA: query head h reads kv head h / (heads / kv_heads). The
// softmax subtracts the row max, as torch does, so large scores do not overflow.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct attention_params {
  const float* q;          // [tokens, heads, head_dim], row stride q_stride
  const float* k_cache;    // [positions, kv_heads, head_dim], contiguous
  const float* v_cache;    // [positions, kv_heads, head_dim], contiguous
  float* out;              // [tokens, heads, head_dim], row stride out_stride
  int64_t tokens;
  int64_t first_position;  // absolute position of query token 0
  int64_t heads;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t q_stride;
  int64_t out_stride;
  float scale;             // 1 / sqrt(head_dim)
};

void attention(const attention_params& p);

} // namespace proofmesh::kernels::cpu
