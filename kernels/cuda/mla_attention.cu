// The plain path's launch shapes: absorb and expand take one 128-thread block per (token, head);
// attend takes one warp per (token, head), four heads per block. Each lane of an attending warp
// holds the dimensions lane, lane + 32, ... of the query and of its latent sum, so every cache
// row is read by the warp in coalesced 32-element runs. The fast path is fast_mla below.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/mla_attention.cuh"
#include "kernels/cuda/mla_flash.cuh"

#include <type_traits>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 128;
constexpr int per_lane = static_cast<int>(max_mla_row / 32);

// The plain path's workspace: q_latent [tokens, heads, latent + rope], then o_latent
// [tokens, heads, latent], in float.
template <typename T>
__host__ __device__ float* q_latent_of(const mla_attention_params<T>& p) {
  return p.workspace;
}

template <typename T>
__host__ __device__ float* o_latent_of(const mla_attention_params<T>& p) {
  return p.workspace + p.tokens * p.heads * (p.latent + p.rope);
}

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
  float* out = q_latent_of(p) + (t * p.heads + h) * row;
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
  const float* ql = q_latent_of(p) + (t * p.heads + h) * row;
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
  float* out = o_latent_of(p) + (t * p.heads + h) * p.latent;
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
  const float* lat = o_latent_of(p) + (t * p.heads + h) * p.latent;
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

// The fast path's workspace: q_latent and o_latent [tokens, heads, 512] in bf16, then the
// splits' partials.
struct fast_layout {
  mla_flash_args args;
  size_t floats;
};

fast_layout fast_layout_of(const mla_attention_params<__nv_bfloat16>& p) {
  fast_layout f{.args = mla_flash_plan(p), .floats = 0};
  const auto latents = static_cast<size_t>(p.tokens * p.heads * mla_flash_latent); // bf16 each
  f.args.q_latent = reinterpret_cast<const __nv_bfloat16*>(p.workspace);
  f.args.o_latent = reinterpret_cast<__nv_bfloat16*>(p.workspace) + latents;
  f.args.partials = p.workspace + latents; // two bf16 arrays take `latents` floats
  f.floats = latents;
  if (f.args.splits > 1) {
    f.floats += latents / mla_flash_latent * static_cast<size_t>(f.args.splits) *
                mla_flash_partial_width;
  }
  return f;
}

// Absorb, attend on tensor cores, expand.
cudaError_t fast_mla(gemm_handle& handle, const mla_attention_params<__nv_bfloat16>& p,
                     cudaStream_t stream) {
  const fast_layout f = fast_layout_of(p);
  const int64_t head_weights = (p.nope + p.v) * p.latent; // one head's W_kb and W_vb
  auto* q_latent = const_cast<__nv_bfloat16*>(f.args.q_latent);
  cudaError_t e = gemm(handle,
                       {.x = p.q, .w = p.kv_b, .bias = nullptr, .y = q_latent, .m = p.tokens,
                        .n = p.latent, .k = p.nope, .a_type = CUDA_R_16BF,
                        .out_type = CUDA_R_16BF, .x_ld = p.q_stride, .y_ld = p.heads * p.latent,
                        .w_kn = true, .batch = p.heads, .x_batch = p.nope + p.rope,
                        .w_batch = head_weights, .y_batch = p.latent},
                       stream);
  if (e == cudaSuccess) {
    e = mla_flash_attend(p, f.args, stream);
  }
  if (e == cudaSuccess) {
    e = gemm(handle,
             {.x = f.args.o_latent, .w = p.kv_b + p.nope * p.latent, .bias = nullptr, .y = p.out,
              .m = p.tokens, .n = p.v, .k = p.latent, .a_type = CUDA_R_16BF,
              .out_type = CUDA_R_16BF, .x_ld = p.heads * p.latent, .y_ld = p.out_stride,
              .w_kn = false, .batch = p.heads, .x_batch = p.latent, .w_batch = head_weights,
              .y_batch = p.v},
             stream);
  }
  return e;
}

} // namespace

template <typename T>
size_t mla_attention_workspace_floats(const mla_attention_params<T>& p) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (mla_flash_supports(p)) {
      return fast_layout_of(p).floats;
    }
  }
  return static_cast<size_t>(p.tokens * p.heads * (2 * p.latent + p.rope));
}

template <typename T>
cudaError_t mla_attention(gemm_handle& handle, const mla_attention_params<T>& p,
                          cudaStream_t stream) {
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
      p.workspace == nullptr || p.tokens > INT32_MAX || p.heads > 65535 ||
      p.q_stride < p.heads * (p.nope + p.rope) || p.out_stride < p.heads * p.v ||
      p.topk > INT32_MAX || p.max_blocks_per_seq * p.block_size > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (mla_flash_supports(p)) {
      return fast_mla(handle, p, stream);
    }
  }
  const auto tokens = static_cast<unsigned>(p.tokens);
  const auto heads = static_cast<unsigned>(p.heads);
  absorb_kernel<T><<<dim3(tokens, heads), block_threads, 0, stream>>>(p);
  const auto head_groups = static_cast<unsigned>((p.heads + 3) / 4);
  attend_kernel<T><<<dim3(tokens, head_groups), block_threads, 0, stream>>>(p);
  expand_kernel<T><<<dim3(tokens, heads), block_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template size_t mla_attention_workspace_floats<float>(const mla_attention_params<float>&);
template size_t mla_attention_workspace_floats<__nv_bfloat16>(
    const mla_attention_params<__nv_bfloat16>&);
template cudaError_t mla_attention<float>(gemm_handle&, const mla_attention_params<float>&,
                                          cudaStream_t);
template cudaError_t mla_attention<__nv_bfloat16>(gemm_handle&,
                                                  const mla_attention_params<__nv_bfloat16>&,
                                                  cudaStream_t);

} // namespace proofmesh::kernels::cuda
