// Launch shape: grid (tokens, ceil(heads / 4)), 4 warps per block, one warp per (token, head);
// the warps of a block are neighbouring heads of one token, which share a kv head under GQA, so
// their K/V reads hit L1. A warp walks its keys (all of them, or its split's range), 32 at a time.
//
// Per tile of 32 keys:
//   scores   lane j computes the full dot product of q (staged as float in shared memory, read by
//            broadcast) with key base + j, reading K in VEC-element accesses;
//   softmax  the tile max and the sum of exp(score - new max) are warp reductions; the running
//            sum and the accumulators are rescaled by exp(old max - new max);
//   values   the warp splits into groups of lanes_per_key lanes; group g takes keys g, g + groups,
//            ... of the tile, each lane owning VEC-wide chunks of head_dim, so one V row is read
//            by consecutive lanes (coalesced). The key's probability and cache row come from the
//            lane that scored it, by shuffle.
// At the end the groups' accumulators are summed by shuffles and group 0 writes acc / sum.
// Nothing grows with the context but the loop count: no score row is kept anywhere.
//
// Split launches (grid z = split) walk only their key range and write (acc, max, sum) to the
// workspace instead of out; merge_splits_kernel, one warp per (token, head), rescales each
// split's sum and accumulators by exp(split max - global max) and writes acc / sum. An empty
// range (a short sequence in a long batch) writes max -inf and sum 0, which weigh nothing.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/paged_attention.cuh"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int warps_per_block = 4;
constexpr unsigned full_mask = 0xffffffffu;
// Each lane holds at most head_dim / 32 accumulators when head_dim fills the warp.
constexpr int acc_per_lane = static_cast<int>(max_attention_head_dim / 32);

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o /= 2) {
    v = fmaxf(v, __shfl_xor_sync(full_mask, v, o));
  }
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) {
    v += __shfl_xor_sync(full_mask, v, o);
  }
  return v;
}

// Lanes that cover head_dim's VEC-wide chunks in one pass: a power of two, at most 32.
__host__ __device__ constexpr int lanes_for(int head_dim, int vec) {
  int lanes = 1;
  while (lanes < 32 && lanes < head_dim / vec) {
    lanes *= 2;
  }
  return lanes;
}

// HD > 0: head_dim known at compile time (64 and 128, the shapes that matter), so the key and
// value loops unroll and every lane issues its loads back to back; HD == 0 serves the rest.
template <typename T, int VEC, int HD>
__global__ void __launch_bounds__(warps_per_block * 32)
    paged_attention_kernel(paged_attention_params<T> p, int runtime_lanes_per_key,
                           int split_keys) {
  wait_for_upstream();
  constexpr int chunks_per_lane = acc_per_lane / VEC;
  constexpr int fixed_lanes = lanes_for(HD > 0 ? HD : VEC, VEC);
  const int lanes_per_key = HD > 0 ? fixed_lanes : runtime_lanes_per_key;
  __shared__ float q_shared[warps_per_block][max_attention_head_dim];
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t t = blockIdx.x;
  const int64_t h = static_cast<int64_t>(blockIdx.y) * warps_per_block + warp;
  if (h >= p.heads) {
    return; // whole warp; the kernel has no block-wide barrier
  }
  const int head_dim = HD > 0 ? HD : static_cast<int>(p.head_dim);
  T* out = p.out + t * p.out_stride + h * p.head_dim;
  const int32_t seq = p.token_seq[t];
  const int32_t pos = p.token_pos[t];
  if (seq < 0 || pos < 0 || pos >= p.max_blocks_per_seq * p.block_size) {
    for (int d = lane; d < head_dim; d += 32) {
      out[d] = from_float<T>(NAN); // a split launch's merge writes the NaN again
    }
    return;
  }
  // This launch's key range: all keys, or split blockIdx.z's share.
  const int split = static_cast<int>(blockIdx.z);
  const int key_begin = split * split_keys;
  const int key_end = min(pos + 1, key_begin + split_keys);
  float* partial = p.workspace == nullptr
                       ? nullptr
                       : p.workspace + ((t * p.heads + h) * p.num_splits + split) * (head_dim + 2);

  float* q_s = q_shared[warp];
  const T* q = p.q + t * p.q_stride + h * p.head_dim;
  for (int d = lane; d < head_dim; d += 32) {
    q_s[d] = to_float(q[d]);
  }
  __syncwarp();

  const int64_t kvh = h / (p.heads / p.kv_heads);
  const int32_t* table = p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq;
  const int block_size = static_cast<int>(p.block_size);
  const int n_keys = key_end;
  const int chunks = head_dim / VEC;
  const int groups = 32 / lanes_per_key;
  const int group = lane / lanes_per_key;
  const int lane_in_group = lane % lanes_per_key;

  float acc[acc_per_lane];
#pragma unroll
  for (int a = 0; a < acc_per_lane; ++a) {
    acc[a] = 0.0f;
  }
  float run_max = -INFINITY;
  float run_sum = 0.0f;

  for (int base = key_begin; base < n_keys; base += 32) {
    // Scores: lane j owns key base + j.
    const int key = base + lane;
    float score = -INFINITY;
    int64_t row = 0; // element offset of this key's (slot, kv head) row in the caches
    if (key < n_keys) {
      const int64_t block = table[key / block_size];
      const int64_t slot = block * block_size + key % block_size;
      row = (slot * p.kv_heads + kvh) * p.head_dim;
      const T* k = p.k_cache + row;
      float dot = 0.0f;
#pragma unroll
      for (int d = 0; d < head_dim; d += VEC) {
        float kf[VEC];
        load_float(k + d, kf);
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
          dot += q_s[d + e] * kf[e];
        }
      }
      score = dot * p.scale;
    }

    // Online softmax: the tile always holds key `base` < n_keys, so new_max is finite and
    // exp(-inf - new_max) = 0 covers both the first tile and the lanes past n_keys.
    const float new_max = fmaxf(run_max, warp_max(score));
    const float rescale = expf(run_max - new_max);
    const float prob = expf(score - new_max);
    run_sum = run_sum * rescale + warp_sum(prob);
    run_max = new_max;
#pragma unroll
    for (int a = 0; a < acc_per_lane; ++a) {
      acc[a] *= rescale;
    }

    // Values: group g takes keys g, g + groups, ... of the tile. The loop bound is warp-uniform
    // and j0 + group <= 31, so every lane joins every shuffle. With head_dim compiled in, the
    // loop runs over the whole tile, fully unrolled, so each lane's V loads issue back to back
    // (keys past the tile are skipped by the guard).
    const int tile_keys = min(32, n_keys - base);
    const int tile_end = HD > 0 ? 32 : tile_keys;
#pragma unroll
    for (int j0 = 0; j0 < tile_end; j0 += groups) {
      const int j = j0 + group;
      const float pj = __shfl_sync(full_mask, prob, j);
      const int64_t row_j = __shfl_sync(full_mask, row, j);
      if (j < tile_keys) {
        const T* v = p.v_cache + row_j;
#pragma unroll
        for (int c = 0; c < chunks_per_lane; ++c) {
          const int chunk = lane_in_group + c * lanes_per_key;
          if (chunk < chunks) {
            float vf[VEC];
            load_float(v + chunk * VEC, vf);
#pragma unroll
            for (int e = 0; e < VEC; ++e) {
              acc[c * VEC + e] += pj * vf[e];
            }
          }
        }
      }
    }
  }

  // Lanes with the same lane_in_group in different groups own the same dims: sum them.
  for (int o = lanes_per_key; o < 32; o *= 2) {
#pragma unroll
    for (int a = 0; a < acc_per_lane; ++a) {
      acc[a] += __shfl_xor_sync(full_mask, acc[a], o);
    }
  }
  if (partial != nullptr) {
    if (group == 0) {
#pragma unroll
      for (int c = 0; c < chunks_per_lane; ++c) {
        const int chunk = lane_in_group + c * lanes_per_key;
        if (chunk < chunks) {
#pragma unroll
          for (int e = 0; e < VEC; ++e) {
            partial[chunk * VEC + e] = acc[c * VEC + e];
          }
        }
      }
    }
    if (lane == 0) {
      partial[head_dim] = run_max; // -inf for an empty range
      partial[head_dim + 1] = run_sum;
    }
    return;
  }
  if (group == 0) {
    const float inv_sum = 1.0f / run_sum;
#pragma unroll
    for (int c = 0; c < chunks_per_lane; ++c) {
      const int chunk = lane_in_group + c * lanes_per_key;
      if (chunk < chunks) {
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
          out[chunk * VEC + e] = from_float<T>(acc[c * VEC + e] * inv_sum);
        }
      }
    }
  }
}

template <typename T, typename C>
__global__ void __launch_bounds__(warps_per_block * 32)
    merge_splits_kernel(paged_attention_params<T, C> p, attention_tokens which) {
  wait_for_upstream();
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t t = blockIdx.x;
  const int64_t h = static_cast<int64_t>(blockIdx.y) * warps_per_block + warp;
  if (h >= p.heads || !attention_token_selected(p.token_seq, p.tokens, t, which)) {
    return;
  }
  const int head_dim = static_cast<int>(p.head_dim);
  T* out = p.out + t * p.out_stride + h * p.head_dim;
  const int32_t seq = p.token_seq[t];
  const int32_t pos = p.token_pos[t];
  if (seq < 0 || pos < 0 || pos >= p.max_blocks_per_seq * p.block_size) {
    for (int d = lane; d < head_dim; d += 32) {
      out[d] = from_float<T>(NAN);
    }
    return;
  }
  const float* parts = p.workspace + (t * p.heads + h) * p.num_splits * (head_dim + 2);
  // Lane s holds split s's max and sum (num_splits <= 32); split 0 is never empty.
  const float m = lane < p.num_splits ? parts[lane * (head_dim + 2) + head_dim] : -INFINITY;
  const float global_max = warp_max(m);
  const float weight = lane < p.num_splits ? expf(m - global_max) : 0.0f;
  const float sum =
      warp_sum(lane < p.num_splits ? weight * parts[lane * (head_dim + 2) + head_dim + 1] : 0.0f);
  const float inv_sum = 1.0f / sum;
  // The bound is warp-uniform, so every lane joins every shuffle: a head_dim below 32 (or not a
  // multiple of it) leaves lanes idle, and a full-mask shuffle they skip is undefined.
  for (int d0 = 0; d0 < head_dim; d0 += 32) {
    const int d = d0 + lane;
    float acc = 0.0f;
    for (int s = 0; s < p.num_splits; ++s) {
      const float w = __shfl_sync(full_mask, weight, s);
      acc += d < head_dim ? w * parts[s * (head_dim + 2) + d] : 0.0f;
    }
    if (d < head_dim) {
      out[d] = from_float<T>(acc * inv_sum);
    }
  }
}

template <typename T, int VEC, int HD>
cudaError_t launch(const paged_attention_params<T>& p, cudaStream_t stream) {
  // Enough lanes per key to cover head_dim's chunks in one pass (a power of two, at most 32).
  const int64_t chunks = p.head_dim / VEC;
  int lanes_per_key = 1;
  while (lanes_per_key < 32 && lanes_per_key < chunks) {
    lanes_per_key *= 2;
  }
  const int64_t context = p.max_blocks_per_seq * p.block_size;
  const int splits = p.num_splits;
  // Keys per split: a multiple of the 32-key tile, so tiles never straddle two splits.
  const int split_keys = splits == 1 ? static_cast<int>(context)
                                     : static_cast<int>((context + 32 * splits - 1) /
                                                        (32 * splits) * 32);
  paged_attention_params<T> q = p;
  q.workspace = splits == 1 ? nullptr : p.workspace;
  const dim3 grid(static_cast<unsigned>(p.tokens),
                  static_cast<unsigned>((p.heads + warps_per_block - 1) / warps_per_block),
                  static_cast<unsigned>(splits));
  PM_CUDA_TRY(launch_dependent(paged_attention_kernel<T, VEC, HD>, grid, warps_per_block * 32, 0,
                               stream, q, lanes_per_key, split_keys));
  if (splits > 1) {
    const dim3 merge_grid(grid.x, grid.y);
    return launch_dependent(merge_splits_kernel<T, T>, merge_grid, warps_per_block * 32, 0, stream,
                            q, attention_tokens::all);
  }
  return cudaSuccess;
}

// The tensor-core launches: a decode batch takes the decode form; a batch known to hold runs
// takes the prefill form for its runs and the decode form for its lone tokens; an unknown one
// takes the prefill form throughout. Decode-form launches with splits are merged after.
template <typename C>
cudaError_t flash_launches(const paged_attention_params<__nv_bfloat16, C>& p,
                           cudaStream_t stream) {
  const int64_t tiles = (p.max_blocks_per_seq * p.block_size + 63) / 64;
  const int split_keys = static_cast<int>((tiles + p.num_splits - 1) / p.num_splits * 64);
  const bool decodes = flash_decode_form_fits(p) && p.max_query_tokens >= 1;
  auto decode_form = [&](attention_tokens which) {
    if (cudaError_t e = flash_attention(p, true, which, split_keys, stream); e != cudaSuccess) {
      return e;
    }
    if (p.num_splits > 1) {
      const dim3 grid(static_cast<unsigned>(p.tokens),
                      static_cast<unsigned>((p.heads + warps_per_block - 1) / warps_per_block));
      return launch_dependent(merge_splits_kernel<__nv_bfloat16, C>, grid, warps_per_block * 32, 0,
                              stream, p, which);
    }
    return cudaSuccess;
  };
  if (decodes && p.max_query_tokens == 1) {
    return decode_form(attention_tokens::all);
  }
  if (!decodes) {
    return flash_attention(p, false, attention_tokens::all, split_keys, stream);
  }
  if (cudaError_t e = flash_attention(p, false, attention_tokens::in_runs, split_keys, stream);
      e != cudaSuccess) {
    return e;
  }
  return decode_form(attention_tokens::lone);
}

// The CUDA-core kernel, in the widest access K and V rows allow (they start at multiples of
// head_dim elements from the cache bases).
template <typename T>
cudaError_t cuda_core_launches(const paged_attention_params<T>& p, cudaStream_t stream) {
  constexpr int wide = max_vec<T>;
  if (p.head_dim % wide == 0 && is_aligned(p.k_cache, sizeof(T) * wide) &&
      is_aligned(p.v_cache, sizeof(T) * wide)) {
    switch (p.head_dim) { // DISPATCH: the head sizes of the models we serve
      case 64: return launch<T, wide, 64>(p, stream);
      case 128: return launch<T, wide, 128>(p, stream);
      default: return launch<T, wide, 0>(p, stream);
    }
  }
  if (p.head_dim % 2 == 0 && is_aligned(p.k_cache, sizeof(T) * 2) &&
      is_aligned(p.v_cache, sizeof(T) * 2)) {
    return launch<T, 2, 0>(p, stream);
  }
  return launch<T, 1, 0>(p, stream);
}

} // namespace

int32_t paged_attention_splits(int64_t tokens, int64_t heads, int64_t max_context, int num_sms) {
  constexpr int64_t min_split_keys = 32; // one tile of keys per split at the least
  const int64_t blocks = tokens * ((heads + warps_per_block - 1) / warps_per_block);
  if (blocks <= 0 || max_context < 2 * min_split_keys) {
    return 1;
  }
  // Blocks are 4 warps: 8 per multiprocessor keep 32 warps resident to hide the load latency
  // of the key walk (the kernel lab measured bs=64 at 16% of HBM bandwidth with 4 per SM).
  int64_t splits = (8 * static_cast<int64_t>(num_sms) + blocks - 1) / blocks;
  splits = std::min<int64_t>({splits, max_context / min_split_keys, max_attention_splits});
  return static_cast<int32_t>(std::max<int64_t>(splits, 1));
}

size_t paged_attention_workspace_floats(int64_t tokens, int64_t heads, int64_t head_dim,
                                        int32_t num_splits) {
  if (num_splits <= 1) {
    return 0;
  }
  return static_cast<size_t>(tokens * heads * num_splits * (head_dim + 2));
}

template <typename T, typename C>
cudaError_t paged_attention(const paged_attention_params<T, C>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.heads <= 0 || p.kv_heads <= 0 || p.heads % p.kv_heads != 0 ||
      p.num_splits < 1 || p.num_splits > max_attention_splits ||
      (p.num_splits > 1 && p.workspace == nullptr) ||
      p.head_dim <= 0 || p.head_dim > max_attention_head_dim || p.block_size <= 0 ||
      p.max_blocks_per_seq <= 0) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  const int64_t width = p.heads * p.head_dim;
  if (p.q == nullptr || p.k_cache == nullptr || p.v_cache == nullptr ||
      p.block_tables == nullptr || p.token_seq == nullptr || p.token_pos == nullptr ||
      p.out == nullptr || p.tokens > INT32_MAX ||
      (p.heads + warps_per_block - 1) / warps_per_block > 65535 ||
      p.block_size > INT32_MAX ||
      // Positions and key indices stay in int32, with room for the last tile's 32 lanes and
      // for split ranges rounded up to whole tiles.
      p.max_blocks_per_seq > (INT32_MAX - 64 * max_attention_splits) / p.block_size ||
      (p.tokens > 1 && (p.q_stride < width || p.out_stride < width))) {
    return cudaErrorInvalidValue;
  }
  if constexpr (!std::is_same_v<T, C>) { // an FP8 cache: only the tensor-core kernel reads it
    if (p.k_scales == nullptr || p.v_scales == nullptr) {
      return cudaErrorInvalidValue;
    }
    return flash_attention_supports(p) ? flash_launches(p, stream) : cudaErrorNotSupported;
  } else {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      if (flash_attention_supports(p)) {
        return flash_launches(p, stream);
      }
    }
    return cuda_core_launches(p, stream);
  }
}

template cudaError_t paged_attention<float>(const paged_attention_params<float>&, cudaStream_t);
template cudaError_t paged_attention<__nv_bfloat16>(const paged_attention_params<__nv_bfloat16>&,
                                                    cudaStream_t);
template cudaError_t paged_attention<__nv_bfloat16, __nv_fp8_e4m3>(const fp8_attention_params&,
                                                                   cudaStream_t);

} // namespace proofmesh::kernels::cuda
