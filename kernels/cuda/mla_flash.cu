// Launch shape: grid (tokens, ceil(heads / 64), splits), 256 threads (8 warps); dynamic shared
// memory holds the block's 64 query rows of 576 (the absorbed latent part, then the rope part)
// and three stages of a 32-key tile of cache rows (also 576 wide: the latent, then the rope key),
// rows swizzled as mma.cuh's `swizzled`. 184 KB: one block per SM, 8 warps to hide latency.
//
// Warp w takes the 16 heads 16·(w % 4) and the half w / 4 of the tile's keys for the scores and
// of the 512 value columns for the output; warps w and w + 4 are a pair. Per tile:
//   scores   S = Q Kᵀ over all 576 dims by mma, 16 heads by the warp's 16 keys, scaled by
//            scale · log2(e) for exp2;
//   mask     a key outside the list, a -1 of the indexer, or a position past the token's own
//            scores -inf (the loader records which keys of the tile are real);
//   softmax  online, in float32, as in flash_attention.cu, the pair's row maxima exchanged
//            through shared memory (a 64-thread named barrier) so both keep the same max;
//   values   P, rounded to bf16, goes to the pair's shared rows (a second pair barrier); each
//            warp then takes O += P V over all 32 keys for its 256 columns, V being the first
//            512 dims of the same shared cache rows, read by transposing ldmatrix.
// Splitting the keys rather than computing S twice saves a third of the mma work.
// The next two tiles' gathers (through the block table, by cp.async) are in flight meanwhile.
// Expected (2026-12-03, before measuring): memory-bound at bs = 1 (2,048 keys of 1,152 bytes per
// token), mma-issue-bound in prefill near 300 TFLOP/s of useful work. Measured: 130-165 TFLOP/s
// in prefill and batched decode (with 128 heads a row serves ~240 FLOPs a byte, so both are
// compute-bound), limited by mma.sync issue, ldmatrix traffic and the pair barriers together
// (docs/PERFORMANCE.md); wgmma with Q resident is the next step.
#include "kernels/cuda/device_sms.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/mla_flash.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/shared_memory.cuh"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace proofmesh::kernels::cuda {

namespace {

using bf16 = __nv_bfloat16;

constexpr int width = 576;                  // latent + rope
constexpr int chunks = width / 8;           // 16-byte chunks per row
constexpr int latent_chunks = 512 / 8;
constexpr int rows = 64;                    // heads per block
constexpr int tile_keys = 32;
constexpr int stages = 3;
constexpr int threads = 256;
constexpr int q_bytes = rows * width * 2;
constexpr int tile_bytes = tile_keys * width * 2;
constexpr int smem_bytes = q_bytes + stages * tile_bytes;
constexpr int partial_width = mla_flash_partial_width;
constexpr int p_chunks = 8; // P's rows: 32 keys of bf16 in 4 chunks, padded to 8 to swizzle
constexpr float log2e = 1.4426950408889634f;
constexpr float ln2 = 0.6931471805599453f;

static_assert(rows == mla_flash_heads && width == mla_flash_latent + mla_flash_rope);

// What one block attends: its token's list range and where the list lives.
struct block_keys {
  int64_t t;
  int pos;              // the token's position; keys past it are masked
  int begin, end;       // list indices of this split
  const int32_t* list;  // the indexer's positions of this token, or nullptr: index = position
  const int32_t* table; // the token's block table row
  int context;          // positions the block table covers
};

// The two warps of a head group (rg and rg + 4) meet; barrier 0 is __syncthreads'.
__device__ __forceinline__ void pair_sync(int rg) {
  asm volatile("bar.sync %0, 64;\n" ::"r"(rg + 1));
}

// Posts this warp's value of each of its two rows (threads with t4 == 0 hold them, reduced over
// the quad) to its half of `buf`, and waits for the partner warp to post the other half.
__device__ __forceinline__ void pair_post(float (&buf)[2][rows], int half, int rg,
                                          const float (&v)[2]) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  if (lane % 4 == 0) {
    buf[half][rg * 16 + lane / 4] = v[0];
    buf[half][rg * 16 + lane / 4 + 8] = v[1];
  }
  pair_sync(rg);
}

// One tile of cache rows into a stage. Thread i copies chunks i % 8 + 8 j of row i / 8, so the
// eight threads of a row share its slot lookup and read it in 128-byte runs.
__device__ __forceinline__ void load_tile(const mla_attention_params<bf16>& p,
                                          const block_keys& b, int base, uint32_t dst,
                                          bool* key_ok) {
  const int row = static_cast<int>(threadIdx.x) / 8, lane8 = static_cast<int>(threadIdx.x) % 8;
  const int index = base + row;
  int position = -1;
  if (index < b.end) {
    position = b.list != nullptr ? b.list[index] : index;
    if (position > b.pos || position >= b.context) {
      position = -1; // -1 padding, or an entry the token may not see
    }
  }
  const bool fill = position >= 0;
  int64_t slot = 0;
  if (fill) {
    const int bs = static_cast<int>(p.block_size);
    slot = static_cast<int64_t>(b.table[position / bs]) * bs + position % bs;
  }
  const bf16* src = p.cache + slot * width;
#pragma unroll
  for (int j = 0; j < chunks / 8; ++j) {
    const int c = lane8 + 8 * j;
    cp_async_16(dst + swizzled<chunks>(row, c), src + c * 8, fill);
  }
  if (lane8 == 0) {
    key_ok[row] = fill;
  }
}

// The block's 64 query rows: the absorbed latent from q_latent, the rope part from q; rows past
// the heads are zeros.
__device__ __forceinline__ void load_queries(const mla_attention_params<bf16>& p,
                                             const mla_flash_args& a, int64_t t, int64_t head0,
                                             uint32_t dst) {
  for (int i = static_cast<int>(threadIdx.x); i < rows * chunks; i += threads) {
    const int row = i / chunks, c = i % chunks;
    const int64_t h = head0 + row;
    const bool fill = h < p.heads;
    const bf16* src = p.q; // any readable address when not filling
    if (fill) {
      src = c < latent_chunks
                ? a.q_latent + (t * p.heads + h) * mla_flash_latent + c * 8
                : p.q + t * p.q_stride + h * (p.nope + p.rope) + p.nope + (c - latent_chunks) * 8;
    }
    cp_async_16(dst + swizzled<chunks>(row, c), src, fill);
  }
}

__global__ void __launch_bounds__(threads, 1)
    mla_flash_kernel(mla_attention_params<bf16> p, mla_flash_args a) {
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ bool key_ok[stages][tile_keys];
  __shared__ float pair_max[2][rows]; // per half, per head row: tile maxima, at the end sums
  __shared__ __align__(128) unsigned char p_bytes[rows * p_chunks * 16];
  const uint32_t p_s = shared_address(p_bytes);
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int rg = warp % 4, half = warp / 4;
  const int g = lane / 4, t4 = lane % 4;
  const int64_t head0 = static_cast<int64_t>(blockIdx.y) * rows;
  const int split = static_cast<int>(blockIdx.z);

  block_keys b{};
  b.t = blockIdx.x;
  const int32_t seq = p.token_seq[b.t];
  b.pos = p.token_pos[b.t];
  b.context = static_cast<int>(p.max_blocks_per_seq * p.block_size);
  const bool valid = seq >= 0 && b.pos >= 0 && b.pos < b.context;
  b.list = p.selected != nullptr ? p.selected + b.t * p.topk : nullptr;
  const int count = !valid ? 0 : p.selected != nullptr ? static_cast<int>(p.topk) : b.pos + 1;
  b.begin = split * static_cast<int>(a.split_keys);
  b.end = min(count, b.begin + static_cast<int>(a.split_keys));
  b.table = p.block_tables + static_cast<int64_t>(valid ? seq : 0) * p.max_blocks_per_seq;

  const uint32_t q_s = shared_address(smem);
  const uint32_t kv_s = q_s + q_bytes;
  float o[32][4];
#pragma unroll
  for (int d = 0; d < 32; ++d) {
    o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;
  }
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

  if (b.begin < b.end) {
    // Copy groups, in order: Q, tile 0, tile 1, then one per iteration (empty ones included).
    load_queries(p, a, b.t, head0, q_s);
    cp_async_commit();
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int base = b.begin + i * tile_keys;
      if (base < b.end) {
        load_tile(p, b, base, kv_s + i * tile_bytes, key_ok[i]);
      }
      cp_async_commit();
    }
    const float scale = p.scale * log2e;
    int stage = 0;
    for (int base = b.begin; base < b.end; base += tile_keys) {
      const uint32_t k_s = kv_s + stage * tile_bytes;
      cp_async_wait<1>(); // this thread's copies of this tile (and Q) have landed
      __syncthreads();    // everyone's have, and everyone is done with the previous tile
      const int ahead = base + 2 * tile_keys;
      const int ahead_stage = stage == 0 ? 2 : stage - 1;
      if (ahead < b.end) {
        load_tile(p, b, ahead, kv_s + ahead_stage * tile_bytes, key_ok[ahead_stage]);
      }
      cp_async_commit();
      const bool* ok = key_ok[stage];
      stage = stage == stages - 1 ? 0 : stage + 1;

      // S for this warp's 16 heads and its half of the tile's keys.
      float s[2][4];
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
        s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
      }
      const int q_row = rg * 16 + lane % 8 + ((lane / 8) % 2) * 8;
      const int key0 = half * 16;
#pragma unroll 3
      for (int ks2 = 0; ks2 < chunks / 4; ++ks2) { // 32 dims a step
        uint32_t qa0[4], qa1[4];
        ldmatrix_x4(qa0, q_s + swizzled<chunks>(q_row, 4 * ks2 + lane / 16));
        ldmatrix_x4(qa1, q_s + swizzled<chunks>(q_row, 4 * ks2 + 2 + lane / 16));
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
          uint32_t kb[4];
          ldmatrix_x4(kb, k_s + swizzled<chunks>(key0 + nt * 8 + lane % 8, 4 * ks2 + lane / 8));
          mma_bf16_16816(s[nt], qa0, kb[0], kb[1]);
          mma_bf16_16816(s[nt], qa1, kb[2], kb[3]);
        }
      }
      float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[nt][e] = ok[key0 + nt * 8 + 2 * t4 + (e & 1)] ? s[nt][e] * scale : -INFINITY;
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
      // The pair's row maxima meet in shared memory; both warps then hold the same running max.
      tile_max[0] = quad_max(tile_max[0]);
      tile_max[1] = quad_max(tile_max[1]);
      pair_post(pair_max, half, rg, tile_max);
      float sub[2];
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int row = rg * 16 + g + 8 * hh;
        const float new_max = fmaxf(m[hh], fmaxf(pair_max[0][row], pair_max[1][row]));
        sub[hh] = new_max == -INFINITY ? 0.0f : new_max;
        const float rescale = fast_exp2(m[hh] - sub[hh]);
        l[hh] *= rescale;
#pragma unroll
        for (int d = 0; d < 32; ++d) {
          o[d][2 * hh] *= rescale;
          o[d][2 * hh + 1] *= rescale;
        }
        m[hh] = new_max;
      }
      // P for this warp's keys, rounded to bf16 into the pair's shared rows.
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[nt][e] = fast_exp2(s[nt][e] - sub[e / 2]);
          l[e / 2] += s[nt][e];
        }
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
          const int row = rg * 16 + g + 8 * hh;
          *reinterpret_cast<uint32_t*>(p_bytes + swizzled<p_chunks>(row, half * 2 + nt) +
                                       4 * t4) = pack_bf16(s[nt][2 * hh], s[nt][2 * hh + 1]);
        }
      }
      pair_sync(rg);
#pragma unroll
      for (int kk = 0; kk < 2; ++kk) {
        uint32_t pa[4];
        ldmatrix_x4(pa, p_s + swizzled<p_chunks>(q_row, 2 * kk + lane / 16));
        const int v_row = kk * 16 + lane % 8 + ((lane / 8) % 2) * 8;
#pragma unroll
        for (int d2 = 0; d2 < 16; ++d2) {
          uint32_t vb[4];
          ldmatrix_x4_trans(vb, k_s + swizzled<chunks>(v_row, half * 32 + 2 * d2 + lane / 16));
          mma_bf16_16816(o[2 * d2], pa, vb[0], vb[1]);
          mma_bf16_16816(o[2 * d2 + 1], pa, vb[2], vb[3]);
        }
      }
    }
    cp_async_wait<0>();
    // Each warp summed the weights of its own keys: the pair adds its two halves.
    l[0] = quad_sum(l[0]);
    l[1] = quad_sum(l[1]);
    pair_post(pair_max, half, rg, l);
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      const int row = rg * 16 + g + 8 * hh;
      l[hh] = pair_max[0][row] + pair_max[1][row];
    }
  }

#pragma unroll
  for (int hh = 0; hh < 2; ++hh) {
    const int64_t h = head0 + rg * 16 + g + 8 * hh;
    if (h >= p.heads) {
      continue;
    }
    const int64_t th = b.t * p.heads + h;
    if (a.splits > 1) {
      float* part = a.partials + (th * a.splits + split) * partial_width;
#pragma unroll
      for (int d = 0; d < 32; ++d) {
        const int col = half * 256 + d * 8 + 2 * t4;
        *reinterpret_cast<float2*>(part + col) = make_float2(o[d][2 * hh], o[d][2 * hh + 1]);
      }
      if (half == 0 && t4 == 0) {
        part[512] = m[hh] * ln2; // natural-log units; -inf stays -inf
        part[513] = l[hh];
      }
    } else {
      const float inv = l[hh] > 0.0f ? 1.0f / l[hh] : 0.0f; // no key: zeros, as the reference
      bf16* out = a.o_latent + th * mla_flash_latent;
#pragma unroll
      for (int d = 0; d < 32; ++d) {
        const int col = half * 256 + d * 8 + 2 * t4;
        *reinterpret_cast<__nv_bfloat162*>(out + col) =
            __floats2bfloat162_rn(o[d][2 * hh] * inv, o[d][2 * hh + 1] * inv);
      }
    }
  }
}

// One warp per (token, head): the splits' sums weighted by exp(max - the greatest max), over the
// weighted sums of weights. Lane i holds columns 4i + 128 j.
__global__ void __launch_bounds__(128) mla_merge_kernel(mla_flash_args a, int64_t pairs) {
  const int64_t th = static_cast<int64_t>(blockIdx.x) * 4 + threadIdx.x / 32;
  if (th >= pairs) {
    return;
  }
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const float* part = a.partials + th * a.splits * partial_width;
  float top = -INFINITY;
  for (int64_t s = 0; s < a.splits; ++s) {
    top = fmaxf(top, part[s * partial_width + 512]);
  }
  const float sub = top == -INFINITY ? 0.0f : top;
  float acc[4][4] = {};
  float den = 0.0f;
  for (int64_t s = 0; s < a.splits; ++s) {
    const float* row = part + s * partial_width;
    const float w = expf(row[512] - sub);
    den += w * row[513];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float4 v = *reinterpret_cast<const float4*>(row + 4 * lane + 128 * j);
      acc[j][0] += w * v.x;
      acc[j][1] += w * v.y;
      acc[j][2] += w * v.z;
      acc[j][3] += w * v.w;
    }
  }
  const float inv = den > 0.0f ? 1.0f / den : 0.0f;
  bf16* out = a.o_latent + th * mla_flash_latent;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    __nv_bfloat162* o2 = reinterpret_cast<__nv_bfloat162*>(out + 4 * lane + 128 * j);
    o2[0] = __floats2bfloat162_rn(acc[j][0] * inv, acc[j][1] * inv);
    o2[1] = __floats2bfloat162_rn(acc[j][2] * inv, acc[j][3] * inv);
  }
}

} // namespace

bool mla_flash_supports(const mla_attention_params<bf16>& p) {
  return p.latent == mla_flash_latent && p.rope == mla_flash_rope && p.nope % 8 == 0 &&
         p.q_stride % 8 == 0 && is_aligned(p.q, 16) && is_aligned(p.cache, 16);
}

mla_flash_args mla_flash_plan(const mla_attention_params<bf16>& p) {
  mla_flash_args a{};
  const int64_t longest =
      p.selected != nullptr ? p.topk : p.max_blocks_per_seq * p.block_size;
  const int64_t tiles = (longest + tile_keys - 1) / tile_keys;
  const int64_t blocks = p.tokens * ((p.heads + rows - 1) / rows);
  int sms = 0;
  sms_of_current_device(sms); // on failure 0: no splits, and the launch reports the error
  a.splits = 1;
  if (blocks > 0 && blocks < sms) {
    a.splits = std::max<int64_t>(1, std::min({(sms + blocks - 1) / blocks, tiles / 2,
                                              mla_flash_max_splits}));
  }
  a.split_keys = (tiles + a.splits - 1) / a.splits * tile_keys;
  a.splits = (tiles * tile_keys + a.split_keys - 1) / a.split_keys; // none left empty by rounding
  return a;
}

cudaError_t mla_flash_attend(const mla_attention_params<bf16>& p, const mla_flash_args& a,
                             cudaStream_t stream) {
  static std::atomic<uint64_t> done{0};
  if (cudaError_t e = opt_in_shared_memory(reinterpret_cast<const void*>(mla_flash_kernel),
                                           smem_bytes, done);
      e != cudaSuccess) {
    return e;
  }
  const dim3 grid(static_cast<unsigned>(p.tokens),
                  static_cast<unsigned>((p.heads + rows - 1) / rows),
                  static_cast<unsigned>(a.splits));
  mla_flash_kernel<<<grid, threads, smem_bytes, stream>>>(p, a);
  if (a.splits > 1) {
    const int64_t pairs = p.tokens * p.heads;
    mla_merge_kernel<<<static_cast<unsigned>((pairs + 3) / 4), 128, 0, stream>>>(a, pairs);
  }
  return cudaGetLastError();
}

} // namespace proofmesh::kernels::cuda
