// Launch shape: grid (tokens, ceil(max_positions / 256)), 128 threads (4 warps); a block scores
// 256 positions of one token (none past its own: such blocks return at once). Shared memory: the
// token's query, 64 heads of 128 (16 KB, rows past `heads` zeros), and the block's four 64-key
// tiles of the key cache (64 KB), each its own cp.async group so the first tile is computed while
// the others land; rows swizzled as mma.cuh's `swizzled`.
// Warp w owns heads 16w .. 16w + 15, its query fragments in registers for the whole block. Per
// tile: S = Q Kᵀ by mma (16 heads x 64 keys), then each thread weighs its two heads' relu'd
// scores and the warp sums its 16 heads over the lanes that share a key; the 4 warps' sums meet
// in shared memory. Expected (2026-12-03, before measuring): mma- and L2-bound in prefill, where
// the old kernel's warp per key with a shuffle reduction per head took 77% of a DeepSeek-V3.2
// prefill step; a decode step reads each token's keys once (256 bytes a position). Measured on
// the four-layer V3.2: 68x less time in prefill, 12x in decode (docs/PERFORMANCE.md).
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/index_scores.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/shared_memory.cuh"

#include <atomic>
#include <cmath>

namespace proofmesh::kernels::cuda {

namespace {

using bf16 = __nv_bfloat16;

constexpr int head_dim = 128;
constexpr int chunks = head_dim / 8;
constexpr int max_heads = 64;
constexpr int tile_keys = 64;
constexpr int tiles = 4;
constexpr int block_keys = tile_keys * tiles;
constexpr int threads = 128;
constexpr int q_bytes = max_heads * head_dim * 2;
constexpr int tile_bytes = tile_keys * head_dim * 2;
constexpr int smem_bytes = q_bytes + tiles * tile_bytes;

template <int N>
__device__ __forceinline__ void wait_for_tile(int i) {
  // Groups: Q, then tiles 0..3; tile i has landed once at most 3 - i groups are in flight.
  if (i == 0) {
    cp_async_wait<N>();
  } else if (i == 1) {
    cp_async_wait<N - 1>();
  } else if (i == 2) {
    cp_async_wait<N - 2>();
  } else {
    cp_async_wait<0>();
  }
}

__global__ void __launch_bounds__(threads)
    index_scores_kernel(index_topk_params<bf16> p) {
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ float warp_sums[threads / 32][block_keys];
  const int64_t t = blockIdx.x;
  const int32_t seq = p.token_seq[t];
  const int pos = p.token_pos[t];
  const int first = static_cast<int>(blockIdx.y) * block_keys;
  const int context = static_cast<int>(p.max_blocks_per_seq * p.block_size);
  if (seq < 0 || pos < first || pos >= context) {
    return; // the whole block: nothing it scores is visible (select reads only s <= pos)
  }
  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32, warp = tid / 32;
  const int g = lane / 4, t4 = lane % 4;
  const int heads = static_cast<int>(p.heads);
  const int32_t* table = p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq;
  const uint32_t q_s = shared_address(smem);
  const uint32_t k_s = q_s + q_bytes;
  const int n_tiles = min(tiles, (pos - first) / tile_keys + 1);

  for (int i = tid; i < max_heads * chunks; i += threads) {
    const int row = i / chunks, c = i % chunks;
    const bool fill = row < heads;
    const bf16* src = p.q + (fill ? t * p.q_stride + row * head_dim + c * 8 : 0);
    cp_async_16(q_s + swizzled<chunks>(row, c), src, fill);
  }
  cp_async_commit();
  const int bs = static_cast<int>(p.block_size);
#pragma unroll
  for (int tile = 0; tile < tiles; ++tile) {
    if (tile < n_tiles) {
      for (int i = tid; i < tile_keys * chunks; i += threads) {
        const int row = i / chunks, c = i % chunks;
        const int s = first + tile * tile_keys + row;
        const bool fill = s <= pos;
        int64_t slot = 0;
        if (fill) {
          slot = static_cast<int64_t>(table[s / bs]) * bs + s % bs;
        }
        cp_async_16(k_s + tile * tile_bytes + swizzled<chunks>(row, c),
                    p.keys + slot * head_dim + c * 8, fill);
      }
    }
    cp_async_commit(); // empty groups too, so that the counts above hold
  }

  cp_async_wait<tiles>();
  __syncthreads();
  const bool active = warp * 16 < heads;
  uint32_t qa[head_dim / 16][4];
  float w0 = 0.0f, w1 = 0.0f;
  if (active) {
#pragma unroll
    for (int ks = 0; ks < head_dim / 16; ++ks) {
      const int row = warp * 16 + lane % 8 + ((lane / 8) % 2) * 8;
      ldmatrix_x4(qa[ks], q_s + swizzled<chunks>(row, 2 * ks + lane / 16));
    }
    const bf16* w = p.weights + t * p.weights_stride + warp * 16 + g;
    w0 = __bfloat162float(w[0]) * p.weight_scale;
    w1 = __bfloat162float(w[8]) * p.weight_scale;
  }
  for (int tile = 0; tile < n_tiles; ++tile) {
    wait_for_tile<tiles - 1>(tile);
    __syncthreads();
    if (!active) {
      continue;
    }
    const uint32_t tile_s = k_s + tile * tile_bytes;
#pragma unroll
    for (int nt = 0; nt < tile_keys / 8; ++nt) {
      float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
      for (int ks2 = 0; ks2 < head_dim / 32; ++ks2) {
        uint32_t kb[4];
        ldmatrix_x4(kb, tile_s + swizzled<chunks>(nt * 8 + lane % 8, 4 * ks2 + lane / 8));
        mma_bf16_16816(s, qa[2 * ks2], kb[0], kb[1]);
        mma_bf16_16816(s, qa[2 * ks2 + 1], kb[2], kb[3]);
      }
      // This thread's heads g and g + 8 at keys 2·t4 and 2·t4 + 1 of the 8-key tile.
      float v0 = w0 * fmaxf(s[0] * p.scale, 0.0f) + w1 * fmaxf(s[2] * p.scale, 0.0f);
      float v1 = w0 * fmaxf(s[1] * p.scale, 0.0f) + w1 * fmaxf(s[3] * p.scale, 0.0f);
#pragma unroll
      for (int o = 4; o < 32; o *= 2) { // over g: the lanes that share t4
        v0 += __shfl_xor_sync(0xffffffffu, v0, o);
        v1 += __shfl_xor_sync(0xffffffffu, v1, o);
      }
      if (g == 0) {
        const int key = tile * tile_keys + nt * 8 + 2 * t4;
        warp_sums[warp][key] = v0;
        warp_sums[warp][key + 1] = v1;
      }
    }
  }
  __syncthreads();
  const int warps = (heads + 15) / 16;
  for (int key = tid; key < n_tiles * tile_keys; key += threads) {
    const int s = first + key;
    if (s <= pos) {
      float score = 0.0f;
      for (int w = 0; w < warps; ++w) {
        score += warp_sums[w][key];
      }
      p.scores[t * p.max_positions + s] = score;
    }
  }
}

} // namespace

bool index_scores_mma_supports(const index_topk_params<bf16>& p) {
  return p.head_dim == head_dim && p.heads % 16 == 0 && p.heads <= max_heads &&
         p.q_stride % 8 == 0 && is_aligned(p.q, 16) && is_aligned(p.keys, 16);
}

cudaError_t index_scores_mma(const index_topk_params<bf16>& p, cudaStream_t stream) {
  static std::atomic<uint64_t> done{0};
  if (cudaError_t e = opt_in_shared_memory(reinterpret_cast<const void*>(index_scores_kernel),
                                           smem_bytes, done);
      e != cudaSuccess) {
    return e;
  }
  const dim3 grid(static_cast<unsigned>(p.tokens),
                  static_cast<unsigned>((p.max_positions + block_keys - 1) / block_keys));
  index_scores_kernel<<<grid, threads, smem_bytes, stream>>>(p);
  return cudaGetLastError();
}

} // namespace proofmesh::kernels::cuda
