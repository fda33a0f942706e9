// DeepSeekMoE's two element-wise ends around the expert GEMMs, for T in {float, bf16}:
// - moe_route: the router's choice from float32 logits, the same function as kernels/cpu/moe_route
//   (sigmoid; groups by their top-2 sums of score + bias; experts by score + bias; weights from
//   the unbiased scores, renormalised, scaled; ties to the lower index), one thread per token;
// - moe_combine: out[t] += sum_k weight[t, k] * y[row[t, k]] over each token's chosen experts'
//   outputs (rows of the expert-sorted buffer), in choice order, added once in float32.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr int64_t max_moe_experts = 1024;

struct moe_route_params {
  const float* logits;  // [tokens, experts]
  const float* bias;    // [experts]
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

/// cudaErrorInvalidValue on sizes out of range (experts above max_moe_experts, groups not
/// dividing experts or holding fewer than 2, per_token above the kept groups' experts) or null
/// pointers; tokens == 0 is a no-op.
cudaError_t moe_route(const moe_route_params& p, cudaStream_t stream);

template <typename T>
struct moe_combine_params {
  const T* y;           // [tokens * per_token, hidden] expert outputs, expert-sorted
  const int32_t* rows;  // [tokens, per_token] row of y for each (token, choice)
  const float* weights; // [tokens, per_token]
  T* out;               // [tokens, hidden], rows out_stride apart; accumulated into
  int64_t tokens;
  int64_t per_token;
  int64_t hidden;
  int64_t out_stride;
};

template <typename T>
cudaError_t moe_combine(const moe_combine_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
