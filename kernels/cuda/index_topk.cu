// Launch shapes: scores (in bf16 at V3.2's widths, index_scores.cu's tensor-core kernel instead)
// take blocks of 4 warps per (token, 64 positions), the query in shared
// memory, one warp per key at a time (lanes over the head dimension, a warp reduction per head);
// select takes one 256-thread block per token: four 8-bit histogram rounds find the k-th largest
// score's bits exactly, then one warp lists the chosen positions in order with ballots.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/index_scores.cuh"
#include "kernels/cuda/index_topk.cuh"

#include <type_traits>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 128;
constexpr int keys_per_block = 64;
constexpr int select_threads = 256;

template <typename T>
__global__ void __launch_bounds__(block_threads) scores_kernel(index_topk_params<T> p) {
  extern __shared__ float q_s[];
  const int64_t t = blockIdx.x;
  const T* q = p.q + t * p.q_stride;
  for (int64_t i = threadIdx.x; i < p.heads * p.head_dim; i += block_threads) {
    q_s[i] = to_float(q[i]);
  }
  __syncthreads();
  const int64_t pos = p.token_pos[t];
  const int32_t* table = p.block_tables + static_cast<int64_t>(p.token_seq[t]) * p.max_blocks_per_seq;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t first = static_cast<int64_t>(blockIdx.y) * keys_per_block;
  for (int64_t s = first + threadIdx.x / 32; s < first + keys_per_block && s <= pos;
       s += block_threads / 32) {
    const T* k = p.keys + (static_cast<int64_t>(table[s / p.block_size]) * p.block_size +
                           s % p.block_size) * p.head_dim;
    float kv[max_index_head_dim / 32];
    for (int i = 0; i < max_index_head_dim / 32; ++i) {
      const int64_t d = lane + 32 * i;
      kv[i] = d < p.head_dim ? to_float(k[d]) : 0.0f;
    }
    float score = 0.0f;
    for (int64_t h = 0; h < p.heads; ++h) {
      float dot = 0.0f;
      for (int i = 0; i < max_index_head_dim / 32; ++i) {
        const int64_t d = lane + 32 * i;
        if (d < p.head_dim) {
          dot += q_s[h * p.head_dim + d] * kv[i];
        }
      }
      for (int o = 16; o > 0; o /= 2) {
        dot += __shfl_xor_sync(0xffffffffu, dot, o);
      }
      const float w = to_float(p.weights[t * p.weights_stride + h]) * p.weight_scale;
      score += w * fmaxf(dot * p.scale, 0.0f);
    }
    if (lane == 0) {
      p.scores[t * p.max_positions + s] = score;
    }
  }
}

// Larger floats map to larger unsigned integers.
__device__ uint32_t ordered(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

template <typename T>
__global__ void __launch_bounds__(select_threads) select_kernel(index_topk_params<T> p) {
  __shared__ uint32_t histogram[256];
  __shared__ uint32_t prefix_s, remaining_s;
  const int64_t t = blockIdx.x;
  const int64_t visible = static_cast<int64_t>(p.token_pos[t]) + 1;
  const float* scores = p.scores + t * p.max_positions;
  int32_t* out = p.selected + t * p.topk;
  if (visible <= p.topk) {
    for (int64_t i = threadIdx.x; i < p.topk; i += select_threads) {
      out[i] = i < visible ? static_cast<int32_t>(i) : -1;
    }
    return;
  }
  // The k-th largest value's bits, 8 at a time from the top.
  uint32_t prefix = 0, mask = 0, remaining = static_cast<uint32_t>(p.topk);
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += select_threads) {
      histogram[i] = 0;
    }
    __syncthreads();
    for (int64_t s = threadIdx.x; s < visible; s += select_threads) {
      const uint32_t u = ordered(scores[s]);
      if ((u & mask) == prefix) {
        atomicAdd(&histogram[(u >> shift) & 0xFF], 1u);
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      uint32_t above = 0;
      int bin = 255;
      for (; bin > 0; --bin) {
        if (above + histogram[bin] >= remaining) {
          break;
        }
        above += histogram[bin];
      }
      prefix_s = prefix | (static_cast<uint32_t>(bin) << shift);
      remaining_s = remaining - above;
    }
    __syncthreads();
    prefix = prefix_s;
    remaining = remaining_s;
    mask |= 0xFFu << shift;
    __syncthreads();
  }
  // prefix is the k-th largest; take everything above it and the first `remaining` equal to it.
  if (threadIdx.x < 32) {
    const int lane = static_cast<int>(threadIdx.x);
    uint32_t written = 0, equal_taken = 0;
    for (int64_t base = 0; base < visible; base += 32) {
      const int64_t s = base + lane;
      const uint32_t u = s < visible ? ordered(scores[s]) : 0u;
      const bool above = s < visible && u > prefix;
      const bool equal = s < visible && u == prefix;
      const uint32_t equal_mask = __ballot_sync(0xffffffffu, equal);
      const uint32_t lower = (1u << lane) - 1u;
      const bool take = above || (equal && equal_taken + __popc(equal_mask & lower) < remaining);
      const uint32_t take_mask = __ballot_sync(0xffffffffu, take);
      if (take) {
        out[written + __popc(take_mask & lower)] = static_cast<int32_t>(s);
      }
      written += __popc(take_mask);
      equal_taken += __popc(equal_mask);
    }
  }
}

} // namespace

template <typename T>
cudaError_t index_topk(const index_topk_params<T>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.heads <= 0 || p.head_dim <= 0 || p.head_dim > max_index_head_dim ||
      p.heads * p.head_dim > max_index_query || p.topk <= 0 || p.block_size <= 0 ||
      p.max_blocks_per_seq <= 0 || p.max_positions <= 0) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  if (p.q == nullptr || p.keys == nullptr || p.weights == nullptr || p.block_tables == nullptr ||
      p.token_seq == nullptr || p.token_pos == nullptr || p.selected == nullptr ||
      p.scores == nullptr || p.tokens > INT32_MAX || p.q_stride < p.heads * p.head_dim ||
      p.weights_stride < p.heads) {
    return cudaErrorInvalidValue;
  }
  const auto tokens = static_cast<unsigned>(p.tokens);
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (index_scores_mma_supports(p)) {
      if (cudaError_t e = index_scores_mma(p, stream); e != cudaSuccess) {
        return e;
      }
      select_kernel<T><<<tokens, select_threads, 0, stream>>>(p);
      return cudaGetLastError();
    }
  }
  const auto chunks = static_cast<unsigned>((p.max_positions + keys_per_block - 1) / keys_per_block);
  const size_t shared = static_cast<size_t>(p.heads * p.head_dim) * sizeof(float);
  if (shared > 48 * 1024) {
    cudaError_t e = cudaFuncSetAttribute(scores_kernel<T>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(shared));
    if (e != cudaSuccess) {
      return e;
    }
  }
  scores_kernel<T><<<dim3(tokens, chunks), block_threads, shared, stream>>>(p);
  select_kernel<T><<<tokens, select_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template cudaError_t index_topk<float>(const index_topk_params<float>&, cudaStream_t);
template cudaError_t index_topk<__nv_bfloat16>(const index_topk_params<__nv_bfloat16>&,
                                               cudaStream_t);

} // namespace proofmesh::kernels::cuda
