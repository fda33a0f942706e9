// DeepSeek-V3.2's lightning indexer in float32: which cached keys each query attends to.
// Rules of the road: the score of key s for query t is sum_h w[t,h] * weight_scale *
// relu(scale * q[t,h] . k[s]), as transformers' DeepseekV32Indexer computes it. Query t sits at
// absolute position first_position + t and sees positions [0, first_position + t]; it keeps the
// min(topk, visible) best, ties to the earlier key, listed in ascending position and -1 padded.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct index_topk_params {
  const float* q;       // [tokens, heads, head_dim], row stride q_stride
  const float* keys;    // [positions, head_dim], contiguous (the layer's index cache)
  const float* weights; // [tokens, heads], row stride weights_stride
  int32_t* selected;    // [tokens, topk] out
  int64_t tokens;
  int64_t first_position;
  int64_t heads;
  int64_t head_dim;
  int64_t topk;
  int64_t q_stride;
  int64_t weights_stride;
  float scale;
  float weight_scale;
};

void index_topk(const index_topk_params& p);

} // namespace proofmesh::kernels::cpu
