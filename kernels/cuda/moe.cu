// Launch shapes: moe_route takes one thread per token (128 per block), with its scores in local
// memory; moe_combine takes one 256-thread block per token, threads over the hidden dimension.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/moe.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int route_threads = 128;
constexpr int combine_threads = 256;

// The index of the largest of values[0, n) not yet taken, ties to the lower index.
__device__ int64_t best_untaken(const float* values, const bool* taken, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!taken[i] && (best < 0 || values[i] > values[best])) {
      best = i;
    }
  }
  return best;
}

__global__ void __launch_bounds__(route_threads) route_kernel(moe_route_params p) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * route_threads + threadIdx.x;
  if (t >= p.tokens) {
    return;
  }
  float score[max_moe_experts], choice[max_moe_experts];
  bool taken[max_moe_experts];
  const int64_t per_group = p.experts / p.groups;
  for (int64_t e = 0; e < p.experts; ++e) {
    score[e] = 1.0f / (1.0f + expf(-p.logits[t * p.experts + e]));
    choice[e] = score[e] + p.bias[e];
  }
  // Group scores: each group's top two; keep the best groups_kept.
  float group_score[max_moe_experts / 2];
  bool group_taken[max_moe_experts / 2];
  for (int64_t g = 0; g < p.groups; ++g) {
    for (int64_t i = 0; i < per_group; ++i) {
      taken[i] = false;
    }
    const float* members = choice + g * per_group;
    const int64_t first = best_untaken(members, taken, per_group);
    taken[first] = true;
    const int64_t second = best_untaken(members, taken, per_group);
    group_score[g] = members[first] + members[second];
    group_taken[g] = false;
  }
  for (int64_t k = 0; k < p.groups_kept; ++k) {
    group_taken[best_untaken(group_score, group_taken, p.groups)] = true;
  }
  // Experts outside the kept groups are out of the running.
  for (int64_t e = 0; e < p.experts; ++e) {
    taken[e] = !group_taken[e / per_group];
  }
  int32_t* ids = p.experts_out + t * p.per_token;
  float* weights = p.weights_out + t * p.per_token;
  float sum = 0.0f;
  for (int64_t k = 0; k < p.per_token; ++k) {
    const int64_t e = best_untaken(choice, taken, p.experts);
    taken[e] = true;
    ids[k] = static_cast<int32_t>(e);
    weights[k] = score[e];
    sum += score[e];
  }
  for (int64_t k = 0; k < p.per_token; ++k) {
    const float w = p.normalize ? weights[k] / (sum + 1e-20f) : weights[k];
    weights[k] = w * p.scaling;
  }
}

template <typename T>
__global__ void __launch_bounds__(combine_threads) combine_kernel(moe_combine_params<T> p) {
  const int64_t t = blockIdx.x;
  for (int64_t d = threadIdx.x; d < p.hidden; d += combine_threads) {
    float sum = 0.0f;
    for (int64_t k = 0; k < p.per_token; ++k) {
      const int64_t row = p.rows[t * p.per_token + k];
      sum += p.weights[t * p.per_token + k] * to_float(p.y[row * p.hidden + d]);
    }
    T* o = p.out + t * p.out_stride + d;
    *o = from_float<T>(to_float(*o) + sum);
  }
}

} // namespace

cudaError_t moe_route(const moe_route_params& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.experts <= 0 || p.experts > max_moe_experts || p.groups <= 0 ||
      p.experts % p.groups != 0 || p.experts / p.groups < 2 || p.groups_kept <= 0 ||
      p.groups_kept > p.groups || p.per_token <= 0 ||
      p.per_token > p.groups_kept * (p.experts / p.groups)) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  if (p.logits == nullptr || p.bias == nullptr || p.experts_out == nullptr ||
      p.weights_out == nullptr) {
    return cudaErrorInvalidValue;
  }
  const auto grid = static_cast<unsigned>((p.tokens + route_threads - 1) / route_threads);
  route_kernel<<<grid, route_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
cudaError_t moe_combine(const moe_combine_params<T>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.per_token <= 0 || p.hidden <= 0 || p.out_stride < p.hidden) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  if (p.y == nullptr || p.rows == nullptr || p.weights == nullptr || p.out == nullptr ||
      p.tokens > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  combine_kernel<T><<<static_cast<unsigned>(p.tokens), combine_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template cudaError_t moe_combine<float>(const moe_combine_params<float>&, cudaStream_t);
template cudaError_t moe_combine<__nv_bfloat16>(const moe_combine_params<__nv_bfloat16>&,
                                                cudaStream_t);

} // namespace proofmesh::kernels::cuda
