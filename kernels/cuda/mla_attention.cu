// Launch shapes: absorb and expand take one 128-thread block per (token, head); attend takes one
// warp per (token, head), four heads per block. Each lane of an attending warp holds the
// dimensions lane, lane + 32, ... of the query and of its latent sum, so every cache row is read
// by the warp in coalesced 32-element runs.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/mla_attention.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 128;
constexpr int per_lane = static_cast<int>(max_mla_row / 32);

template <typename T>
__global__ void __launch_bounds__(block_threads) absorb_kernel(mla_attention_params<T> p) {
  __shared__ float q_nope[max_mla_row];
  const int64_t t = blockIdx.x, h = blockIdx.y;
  const T* q = p.q + t * p.q_stride + h * (p.nope + p.rope);
  for (int64_t n = threadIdx.x; n < p.nope; n += block_threads) {
    q_nope[n] = to_float(q[n]);
  }
  __syncthreads();
  const int64_t row = p.latent + p.rope;
  float* out = p.q_latent + (t * p.heads + h) * row;
  const T* w_kb = p.kv_b + h * (p.nope + p.v) * p.latent;
  for (int64_t j = threadIdx.x; j < p.latent; j += block_threads) {
    float sum = 0.0f;
    for (int64_t n = 0; n < p.nope; ++n) {
      sum += q_nope[n] * to_float(w_kb[n * p.latent + j]);
    }
    out[j] = sum;
  }
  for (int64_t r = threadIdx.x; r < p.rope; r += block_threads) {
    out[p.latent + r] = to_float(q[p.nope + r]);
  }
}

template <typename T>
__global__ void __launch_bounds__(block_threads) attend_kernel(mla_attention_params<T> p) {
  const int64_t t = blockIdx.x;
  const int64_t h = static_cast<int64_t>(blockIdx.y) * (block_threads / 32) + threadIdx.x / 32;
  if (h >= p.heads) {
    return;
  }
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row = p.latent + p.rope;
  const float* ql = p.q_latent + (t * p.heads + h) * row;
  float q[per_lane], acc[per_lane];
#pragma unroll
  for (int i = 0; i < per_lane; ++i) {
    const int64_t d = lane + 32 * i;
    q[i] = d < row ? ql[d] : 0.0f;
    acc[i] = 0.0f;
  }
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t]) * p.max_blocks_per_seq;
  const int64_t pos = p.token_pos[t];
  const int64_t count = p.selected != nullptr ? p.topk : pos + 1;
  float m = -INFINITY, l = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t s = p.selected != nullptr ? p.selected[t * p.topk + i] : i;
    if (s < 0) {
      continue;
    }
    const T* c = p.cache + (static_cast<int64_t>(table[s / p.block_size]) * p.block_size +
                            s % p.block_size) * row;
    float partial = 0.0f;
#pragma unroll
    for (int k = 0; k < per_lane; ++k) {
      const int64_t d = lane + 32 * k;
      if (d < row) {
        partial += q[k] * to_float(c[d]);
      }
    }
    for (int o = 16; o > 0; o /= 2) {
      partial += __shfl_xor_sync(0xffffffffu, partial, o);
    }
    const float score = partial * p.scale;
    const float m_new = fmaxf(m, score);
    const float correction = expf(m - m_new);
    const float weight = expf(score - m_new);
    l = l * correction + weight;
#pragma unroll
    for (int k = 0; k < per_lane; ++k) {
      const int64_t d = lane + 32 * k;
      acc[k] = acc[k] * correction + (d < p.latent ? weight * to_float(c[d]) : 0.0f);
    }
    m = m_new;
  }
  float* out = p.o_latent + (t * p.heads + h) * p.latent;
#pragma unroll
  for (int k = 0; k < per_lane; ++k) {
    const int64_t d = lane + 32 * k;
    if (d < p.latent) {
      out[d] = l > 0.0f ? acc[k] / l : 0.0f;
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(block_threads) expand_kernel(mla_attention_params<T> p) {
  const int64_t t = blockIdx.x, h = blockIdx.y;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int warp = static_cast<int>(threadIdx.x / 32);
  const float* lat = p.o_latent + (t * p.heads + h) * p.latent;
  const T* w_vb = p.kv_b + (h * (p.nope + p.v) + p.nope) * p.latent;
  for (int64_t d = warp; d < p.v; d += block_threads / 32) {
    float sum = 0.0f;
    for (int64_t j = lane; j < p.latent; j += 32) {
      sum += to_float(w_vb[d * p.latent + j]) * lat[j];
    }
    for (int o = 16; o > 0; o /= 2) {
      sum += __shfl_xor_sync(0xffffffffu, sum, o);
    }
    if (lane == 0) {
      p.out[t * p.out_stride + h * p.v + d] = from_float<T>(sum);
    }
  }
}

} // namespace

template <typename T>
cudaError_t mla_attention(const mla_attention_params<T>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.heads <= 0 || p.nope <= 0 || p.rope <= 0 || p.v <= 0 || p.latent <= 0 ||
      p.latent + p.rope > max_mla_row || p.nope > max_mla_row || p.block_size <= 0 ||
      p.max_blocks_per_seq <= 0 || (p.selected != nullptr && p.topk <= 0)) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  if (p.q == nullptr || p.kv_b == nullptr || p.cache == nullptr || p.block_tables == nullptr ||
      p.token_seq == nullptr || p.token_pos == nullptr || p.out == nullptr ||
      p.q_latent == nullptr || p.o_latent == nullptr || p.tokens > INT32_MAX || p.heads > 65535 ||
      p.q_stride < p.heads * (p.nope + p.rope) || p.out_stride < p.heads * p.v) {
    return cudaErrorInvalidValue;
  }
  const auto tokens = static_cast<unsigned>(p.tokens);
  const auto heads = static_cast<unsigned>(p.heads);
  absorb_kernel<T><<<dim3(tokens, heads), block_threads, 0, stream>>>(p);
  const auto head_groups = static_cast<unsigned>((p.heads + 3) / 4);
  attend_kernel<T><<<dim3(tokens, head_groups), block_threads, 0, stream>>>(p);
  expand_kernel<T><<<dim3(tokens, heads), block_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template cudaError_t mla_attention<float>(const mla_attention_params<float>&, cudaStream_t);
template cudaError_t mla_attention<__nv_bfloat16>(const mla_attention_params<__nv_bfloat16>&,
                                                  cudaStream_t);

} // namespace proofmesh::kernels::cuda
