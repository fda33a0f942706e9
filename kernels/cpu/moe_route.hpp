// DeepSeekMoE's router in float32, as transformers' DeepseekV3TopkRouter: sigmoid scores; the
// choice by score + correction bias, limited to the groups_kept groups whose top-2 sums are best;
// the weights from the unbiased scores, renormalised (+1e-20) when asked, times the scaling.
// Rules of the road: ties go to the lower group and the lower expert; chosen experts are listed in
// the order they were chosen (best first).
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cpu {

struct moe_route_params {
  const float* logits;  // [tokens, experts] router logits
  const float* bias;    // [experts] correction bias
  int32_t* experts_out; // [tokens, per_token]
  float* weights_out;   // [tokens, per_token]
  int64_t tokens;
  int64_t experts;
  int64_t per_token;
  int64_t groups;
  int64_t groups_kept;
  float scaling;
  bool normalize;
};

void moe_route(const moe_route_params& p);

} // namespace proofmesh::kernels::cpu
