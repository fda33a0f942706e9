// Launch shape: grid (ceil(tokens / tokens_per_block), kv_heads, splits), 128 threads; dynamic
// shared memory holds the block's query rows and three stages of a K tile and a V tile, each tile
// 64 keys by head_dim, rows swizzled (16-byte chunk c of row r sits at c ^ (r % 8)) so that the
// eight rows one ldmatrix reads at a column fall in distinct bank groups.
//
// Per tile of 64 keys, each warp, on its 16 rows and its share of the keys (all 64 in the
// prefill form, 16 in the decode form):
//   scores   S = Q K^T by mma (Q's fragments stay in registers for the whole walk; K's come from
//            shared memory by ldmatrix), scaled by scale * log2(e) so exp2 serves as exp;
//   mask     a key past the run's range or past the row's own position scores -inf;
//   softmax  the row max of the tile is reduced over the four threads that share a row; the
//            running max, the per-thread partial sums and the accumulators are rescaled;
//   values   O += P V, with P rounded to bf16 in place as the A operand (the C layout of two
//            8-key tiles is the A layout of one 16-key step) and V read by transposing ldmatrix.
// The next two tiles' copies are in flight while this one is computed. A row whose max is still
// -inf (masked so far, or no row at all) subtracts 0 instead, so no -inf - -inf NaN appears.
// Keys past the range are zero-filled, not read: the cache may hold NaN there.
// An FP8 cache's stages hold e4m3 codes and per-key scales, half the bytes in flight; after a
// stage lands, the block widens it (code * scale, rounded to bf16) into one bf16 K/V tile that
// the warps then compute on as above, at the cost of a second barrier per tile.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/shared_memory.cuh"

#include <atomic>
#include <climits>
#include <cmath>
#include <type_traits>

namespace proofmesh::kernels::cuda {

namespace {

using bf16 = __nv_bfloat16;
using fp8 = __nv_fp8_e4m3;
template <typename C>
constexpr bool is_fp8 = std::is_same_v<C, fp8>;

constexpr int threads = 128;
constexpr int block_keys = 64;
// K/V tiles in shared memory: the one being computed and two in flight. With three, the stage a
// new copy overwrites was computed one iteration ago, so one barrier per tile suffices.
constexpr int stages = 3;
constexpr int max_block_tokens = 64; // the prefill form's tokens per block, group 1
constexpr float log2e = 1.4426950408889634f;
constexpr float ln2 = 0.6931471805599453f;

template <int HD, int WARPS_M, typename C>
struct tile_shape {
  static constexpr int rows = 16 * WARPS_M;      // query rows per block
  static constexpr int warps_n = 4 / WARPS_M;    // warps that split each key tile
  static constexpr int warp_keys = block_keys / warps_n;
  static constexpr int chunks = HD / 8;          // 16-byte chunks per bf16 row
  static constexpr int tile_bytes = block_keys * HD * 2; // a bf16 tile
  static constexpr int q_bytes = rows * HD * 2;
  static constexpr int code_bytes = block_keys * HD;     // an FP8 tile's codes
  // A stage: bf16 K then V; or FP8 codes of K then V, then 64 K scales and 64 V scales.
  static constexpr int stage_bytes = is_fp8<C> ? 2 * code_bytes + 2 * block_keys * 4
                                               : 2 * tile_bytes;
  static constexpr int widened_bytes = is_fp8<C> ? 2 * tile_bytes : 0; // FP8: the bf16 K/V
  // Q, the widened tiles, then the stages.
  static constexpr int smem = q_bytes + widened_bytes + stages * stage_bytes;
  // The decode form merges its warps' accumulators in the K/V region.
  static_assert(WARPS_M == 4 || 4 * 16 * HD * 4 <= widened_bytes + stages * stage_bytes);
};

// What one block works on: its kv head, its tokens and the run being attended.
struct block_work {
  int64_t first_token;  // the block's first token
  int tokens;           // tokens of this block (<= tokens_per_block)
  int kvh;
  int group;            // query heads per kv head
  int run_begin, run_end; // the run, as indices into the block's tokens
  int key_begin, key_end; // keys this block attends for the run
  const int32_t* table; // the run's block table row
};

// The cache slot of a key of the run's table; 0 for a key past the range (not read).
__device__ __forceinline__ int64_t slot_of(const block_work& w, int key, int block_size) {
  return key < w.key_end
             ? static_cast<int64_t>(w.table[key / block_size]) * block_size + key % block_size
             : 0;
}

// One 64-key tile of K and V into a stage of shared memory; keys at or past key_end are zeros.
template <int HD, int WARPS_M, typename C>
__device__ __forceinline__ void load_tile(const paged_attention_params<bf16, C>& p,
                                          const block_work& w, int base, uint32_t stage) {
  using S = tile_shape<HD, WARPS_M, C>;
  const int block_size = static_cast<int>(p.block_size);
  if constexpr (is_fp8<C>) {
    constexpr int chunks = HD / 16; // 16 codes a chunk
    for (int i = static_cast<int>(threadIdx.x); i < block_keys * chunks; i += threads) {
      const int row = i / chunks, c = i % chunks;
      const int64_t offset = (slot_of(w, base + row, block_size) * p.kv_heads + w.kvh) * HD;
      const uint32_t at = stage + row * HD + c * 16;
      cp_async_16(at, p.k_cache + offset + c * 16, base + row < w.key_end);
      cp_async_16(at + S::code_bytes, p.v_cache + offset + c * 16, base + row < w.key_end);
    }
    const int row = static_cast<int>(threadIdx.x);
    if (row < block_keys) {
      const int64_t at = slot_of(w, base + row, block_size) * p.kv_heads + w.kvh;
      const uint32_t scales = stage + 2 * S::code_bytes;
      cp_async_4(scales + row * 4, p.k_scales + at, base + row < w.key_end);
      cp_async_4(scales + (block_keys + row) * 4, p.v_scales + at, base + row < w.key_end);
    }
  } else {
    constexpr int chunks = HD / 8;
    for (int i = static_cast<int>(threadIdx.x); i < block_keys * chunks; i += threads) {
      const int row = i / chunks, c = i % chunks;
      const int64_t offset = (slot_of(w, base + row, block_size) * p.kv_heads + w.kvh) * HD;
      const uint32_t at = swizzled<chunks>(row, c);
      cp_async_16(stage + at, p.k_cache + offset + c * 8, base + row < w.key_end);
      cp_async_16(stage + S::tile_bytes + at, p.v_cache + offset + c * 8,
                  base + row < w.key_end);
    }
  }
}

// Two e4m3 codes times their key's scale, as a bf16 pair.
__device__ __forceinline__ uint32_t widen_pair(uint32_t codes, float scale) {
  const __half2 h(__nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(codes), __NV_E4M3));
  const float2 f = __half22float2(h);
  return pack_bf16(f.x * scale, f.y * scale);
}

// An FP8 stage widened into the bf16 K and V tiles (swizzled, as load_tile lays bf16 stages).
template <int HD, int WARPS_M>
__device__ __forceinline__ void widen_tile(const unsigned char* stage, unsigned char* tiles) {
  using S = tile_shape<HD, WARPS_M, fp8>;
  constexpr int groups = HD / 8; // 8 codes in, one 16-byte bf16 chunk out
  const float* scales = reinterpret_cast<const float*>(stage + 2 * S::code_bytes);
  for (int i = static_cast<int>(threadIdx.x); i < 2 * block_keys * groups; i += threads) {
    const int which = i / (block_keys * groups); // 0: K, 1: V
    const int row = i % (block_keys * groups) / groups, c = i % groups;
    const uint2 codes =
        *reinterpret_cast<const uint2*>(stage + which * S::code_bytes + row * HD + c * 8);
    const float scale = scales[which * block_keys + row];
    const uint4 out = {widen_pair(codes.x & 0xffffu, scale), widen_pair(codes.x >> 16, scale),
                       widen_pair(codes.y & 0xffffu, scale), widen_pair(codes.y >> 16, scale)};
    *reinterpret_cast<uint4*>(tiles + which * S::tile_bytes + swizzled<groups>(row, c)) = out;
  }
}

// The block's query rows of the run into shared memory; other rows are zeros.
template <int HD, int WARPS_M, typename C>
__device__ __forceinline__ void load_queries(const paged_attention_params<bf16, C>& p,
                                             const block_work& w, uint32_t q_dst) {
  using S = tile_shape<HD, WARPS_M, C>;
  for (int i = static_cast<int>(threadIdx.x); i < S::rows * S::chunks; i += threads) {
    const int row = i / S::chunks, c = i % S::chunks;
    const int tok = row / w.group;
    const bool fill = tok >= w.run_begin && tok < w.run_end;
    const int64_t head = static_cast<int64_t>(w.kvh) * w.group + row % w.group;
    const bf16* src = p.q + (fill ? (w.first_token + tok) * p.q_stride + head * HD + c * 8 : 0);
    cp_async_16(q_dst + swizzled<S::chunks>(row, c), src, fill);
  }
}

// Attends one run; the block's threads all call it. Leaves shared memory free for the next run.
template <int HD, int WARPS_M, typename C>
__device__ void attend_run(const paged_attention_params<bf16, C>& p, const block_work& w,
                           const int32_t* tok_pos, unsigned char* smem, float* warp_max,
                           float* warp_sum) {
  using S = tile_shape<HD, WARPS_M, C>;
  constexpr int n_tiles = S::warp_keys / 8; // 8-key score tiles per warp
  constexpr int d_tiles = HD / 8;           // 8-dim output tiles per row
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int warp_m = warp % WARPS_M, warp_n = warp / WARPS_M;
  const int g = lane / 4, t4 = lane % 4;
  const uint32_t q_s = shared_address(smem);
  const uint32_t widened_s = q_s + S::q_bytes;
  const uint32_t kv_s = widened_s + S::widened_bytes; // the stages

  // Copy groups, in order: Q, tile 0, tile 1, then one per iteration (empty ones included, so
  // that "all but the newest one" always means "up to the tile about to be computed").
  load_queries<HD, WARPS_M>(p, w, q_s);
  cp_async_commit();
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int base = w.key_begin + i * block_keys;
    if (base < w.key_end) {
      load_tile<HD, WARPS_M>(p, w, base, kv_s + i * S::stage_bytes);
    }
    cp_async_commit();
  }
  cp_async_wait<2>();
  __syncthreads();

  uint32_t qa[HD / 16][4];
#pragma unroll
  for (int ks = 0; ks < HD / 16; ++ks) {
    const int row = warp_m * 16 + lane % 8 + ((lane / 8) % 2) * 8;
    ldmatrix_x4(qa[ks], q_s + swizzled<S::chunks>(row, 2 * ks + lane / 16));
  }
  // The positions of this thread's two rows; -1 masks every key (no row, or not in the run).
  int pos[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int row = warp_m * 16 + g + 8 * half;
    const int tok = row / w.group;
    pos[half] = tok >= w.run_begin && tok < w.run_end ? tok_pos[tok] : -1;
  }
  // The warp's least row position: tiles wholly at or below it need no mask (rows outside the
  // run count as INT_MAX; what they compute is never written).
  int least = min(pos[0] < 0 ? INT_MAX : pos[0], pos[1] < 0 ? INT_MAX : pos[1]);
#pragma unroll
  for (int o = 16; o > 0; o /= 2) {
    least = min(least, __shfl_xor_sync(0xffffffffu, least, o));
  }
  const float scale = p.scale * log2e;

  float o[d_tiles][4];
#pragma unroll
  for (int d = 0; d < d_tiles; ++d) {
    o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;
  }
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

  int stage = 0;
  for (int base = w.key_begin; base < w.key_end; base += block_keys) {
    const int landed = stage;
    uint32_t k_s = kv_s + landed * S::stage_bytes;
    uint32_t v_s = k_s + S::tile_bytes;
    cp_async_wait<1>(); // this thread's copies of this tile have landed
    __syncthreads();    // everyone's have, and everyone is done with the previous tile
    const int ahead = base + 2 * block_keys;
    const int ahead_stage = stage == 0 ? 2 : stage - 1;
    if (ahead < w.key_end) {
      load_tile<HD, WARPS_M>(p, w, ahead, kv_s + ahead_stage * S::stage_bytes);
    }
    cp_async_commit();
    stage = stage == stages - 1 ? 0 : stage + 1;
    if constexpr (is_fp8<C>) {
      widen_tile<HD, WARPS_M>(smem + S::q_bytes + S::widened_bytes + landed * S::stage_bytes,
                              smem + S::q_bytes);
      __syncthreads(); // the widened tiles are whole
      k_s = widened_s;
      v_s = widened_s + S::tile_bytes;
    }

    const int key0 = warp_n * S::warp_keys; // this warp's first key in the tile
    float s[n_tiles][4];
#pragma unroll
    for (int nt = 0; nt < n_tiles; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
      for (int ks2 = 0; ks2 < HD / 32; ++ks2) {
        uint32_t kb[4];
        ldmatrix_x4(kb, k_s + swizzled<S::chunks>(key0 + nt * 8 + lane % 8, 4 * ks2 + lane / 8));
        mma_bf16_16816(s[nt], qa[2 * ks2], kb[0], kb[1]);
        mma_bf16_16816(s[nt], qa[2 * ks2 + 1], kb[2], kb[3]);
      }
    }
    float tile_max[2] = {-INFINITY, -INFINITY};
    if (base + block_keys <= w.key_end && base + block_keys - 1 <= least) {
#pragma unroll
      for (int nt = 0; nt < n_tiles; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[nt][e] *= scale;
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
    } else {
#pragma unroll
      for (int nt = 0; nt < n_tiles; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = base + key0 + nt * 8 + 2 * t4 + (e & 1);
          const bool seen = key < w.key_end && key <= pos[e / 2];
          s[nt][e] = seen ? s[nt][e] * scale : -INFINITY;
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
    }
    float sub[2];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const float new_max = fmaxf(m[half], quad_max(tile_max[half]));
      sub[half] = new_max == -INFINITY ? 0.0f : new_max;
      const float rescale = fast_exp2(m[half] - sub[half]);
      l[half] *= rescale;
#pragma unroll
      for (int d = 0; d < d_tiles; ++d) {
        o[d][2 * half] *= rescale;
        o[d][2 * half + 1] *= rescale;
      }
      m[half] = new_max;
    }
#pragma unroll
    for (int nt = 0; nt < n_tiles; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = fast_exp2(s[nt][e] - sub[e / 2]);
        l[e / 2] += s[nt][e];
      }
    }
#pragma unroll
    for (int kk = 0; kk < S::warp_keys / 16; ++kk) {
      const uint32_t pa[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]),
                              pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                              pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      const int row = key0 + kk * 16 + lane % 8 + ((lane / 8) % 2) * 8;
#pragma unroll
      for (int d2 = 0; d2 < HD / 16; ++d2) {
        uint32_t vb[4];
        ldmatrix_x4_trans(vb, v_s + swizzled<S::chunks>(row, 2 * d2 + lane / 16));
        mma_bf16_16816(o[2 * d2], pa, vb[0], vb[1]);
        mma_bf16_16816(o[2 * d2 + 1], pa, vb[2], vb[3]);
      }
    }
  }
  cp_async_wait<0>();
  l[0] = quad_sum(l[0]);
  l[1] = quad_sum(l[1]);

  const bool partial = p.num_splits > 1 && WARPS_M == 1;
  const int64_t split = blockIdx.z;
  auto out_of = [&](int row) {
    const int64_t t = w.first_token + row / w.group;
    const int64_t h = static_cast<int64_t>(w.kvh) * w.group + row % w.group;
    return p.out + t * p.out_stride + h * HD;
  };
  if constexpr (WARPS_M == 4) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = warp_m * 16 + g + 8 * half;
      if (pos[half] < 0) {
        continue;
      }
      const float inv = 1.0f / l[half];
      bf16* out = out_of(row);
#pragma unroll
      for (int d = 0; d < d_tiles; ++d) {
        out[d * 8 + 2 * t4] = __float2bfloat16_rn(o[d][2 * half] * inv);
        out[d * 8 + 2 * t4 + 1] = __float2bfloat16_rn(o[d][2 * half + 1] * inv);
      }
    }
  } else {
    // Decode form: the 4 warps hold the same 16 rows over different keys; merge them.
    float* o_s = reinterpret_cast<float*>(smem + S::q_bytes); // [warp][16][HD]
    __syncthreads();
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = g + 8 * half;
      if (t4 == 0) {
        warp_max[warp_n * 16 + row] = m[half];
        warp_sum[warp_n * 16 + row] = l[half];
      }
#pragma unroll
      for (int d = 0; d < d_tiles; ++d) {
        o_s[(warp_n * 16 + row) * HD + d * 8 + 2 * t4] = o[d][2 * half];
        o_s[(warp_n * 16 + row) * HD + d * 8 + 2 * t4 + 1] = o[d][2 * half + 1];
      }
    }
    __syncthreads();
    const int rows = w.group; // one token per block
    for (int i = static_cast<int>(threadIdx.x); i < rows * HD; i += threads) {
      const int row = i / HD, d = i % HD;
      float mx = -INFINITY;
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        mx = fmaxf(mx, warp_max[v * 16 + row]);
      }
      const float sub = mx == -INFINITY ? 0.0f : mx;
      float num = 0.0f, den = 0.0f;
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        const float weight = exp2f(warp_max[v * 16 + row] - sub);
        num += weight * o_s[(v * 16 + row) * HD + d];
        den += weight * warp_sum[v * 16 + row];
      }
      if (partial) {
        const int64_t h = static_cast<int64_t>(w.kvh) * w.group + row;
        float* part =
            p.workspace + ((w.first_token * p.heads + h) * p.num_splits + split) * (HD + 2);
        part[d] = num;
        if (d == 0) {
          part[HD] = mx * ln2; // the merge works in natural-log units; -inf stays -inf
          part[HD + 1] = den;
        }
      } else {
        out_of(row)[d] = __float2bfloat16_rn(num / den);
      }
    }
  }
  __syncthreads();
}

template <int HD, int WARPS_M, typename C>
__global__ void __launch_bounds__(threads)
    flash_attention_kernel(paged_attention_params<bf16, C> p, int tokens_per_block,
                           int split_keys, attention_tokens which) {
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ int32_t tok_seq[max_block_tokens];
  __shared__ int32_t tok_pos[max_block_tokens];
  __shared__ float warp_max[4 * 16], warp_sum[4 * 16];
  block_work w{};
  w.first_token = static_cast<int64_t>(blockIdx.x) * tokens_per_block;
  const int64_t left = p.tokens - w.first_token;
  w.tokens = left < tokens_per_block ? static_cast<int>(left) : tokens_per_block;
  w.kvh = static_cast<int>(blockIdx.y);
  w.group = static_cast<int>(p.heads / p.kv_heads);
  const int64_t context = p.max_blocks_per_seq * p.block_size;
  const int tid = static_cast<int>(threadIdx.x);
  if (tid < w.tokens) {
    const int32_t seq = p.token_seq[w.first_token + tid];
    const int32_t pos = p.token_pos[w.first_token + tid];
    const bool valid = seq >= 0 && pos >= 0 && pos < context;
    // -1: no valid sequence and position; -2: another launch's token.
    const bool mine = attention_token_selected(p.token_seq, p.tokens, w.first_token + tid, which);
    tok_seq[tid] = !valid ? -1 : mine ? seq : -2;
    tok_pos[tid] = valid && mine ? pos : -1;
  }
  __syncthreads();
  // A token without a valid sequence and position gets NaN (the merge writes it again).
  for (int i = tid; i < w.tokens * w.group * HD; i += threads) {
    const int tok = i / (w.group * HD);
    if (tok_seq[tok] == -1) {
      const int64_t h = static_cast<int64_t>(w.kvh) * w.group + (i / HD) % w.group;
      p.out[(w.first_token + tok) * p.out_stride + h * HD + i % HD] = __float2bfloat16_rn(NAN);
    }
  }
  const int split = static_cast<int>(blockIdx.z);
  for (int begin = 0; begin < w.tokens;) {
    if (tok_seq[begin] < 0) {
      ++begin;
      continue;
    }
    int end = begin + 1, last = tok_pos[begin];
    while (end < w.tokens && tok_seq[end] == tok_seq[begin]) {
      last = max(last, tok_pos[end]);
      ++end;
    }
    w.run_begin = begin;
    w.run_end = end;
    w.table = p.block_tables + static_cast<int64_t>(tok_seq[begin]) * p.max_blocks_per_seq;
    w.key_begin = split * split_keys;
    w.key_end = min(last + 1, w.key_begin + split_keys);
    attend_run<HD, WARPS_M, C>(p, w, tok_pos, smem, warp_max, warp_sum);
    begin = end;
  }
}

template <int HD, int WARPS_M, typename C>
cudaError_t allow_shared_memory() {
  static std::atomic<uint64_t> done{0};
  return opt_in_shared_memory(
      reinterpret_cast<const void*>(flash_attention_kernel<HD, WARPS_M, C>),
      tile_shape<HD, WARPS_M, C>::smem, done);
}

template <int HD, int WARPS_M, typename C>
cudaError_t launch(const paged_attention_params<bf16, C>& p, attention_tokens which,
                   int split_keys, cudaStream_t stream) {
  using S = tile_shape<HD, WARPS_M, C>;
  if (cudaError_t e = allow_shared_memory<HD, WARPS_M, C>(); e != cudaSuccess) {
    return e;
  }
  const int group = static_cast<int>(p.heads / p.kv_heads);
  const int tokens_per_block = WARPS_M == 1 ? 1 : S::rows / group;
  const int64_t blocks = (p.tokens + tokens_per_block - 1) / tokens_per_block;
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(p.kv_heads),
                  WARPS_M == 1 ? static_cast<unsigned>(p.num_splits) : 1u);
  const int keys = WARPS_M == 1 && p.num_splits > 1
                       ? split_keys
                       : static_cast<int>(p.max_blocks_per_seq * p.block_size);
  flash_attention_kernel<HD, WARPS_M, C>
      <<<grid, threads, S::smem, stream>>>(p, tokens_per_block, keys, which);
  return cudaGetLastError();
}

} // namespace

template <typename C>
bool flash_attention_supports(const paged_attention_params<bf16, C>& p) {
  return (p.head_dim == 64 || p.head_dim == 128) && p.heads / p.kv_heads <= max_block_tokens &&
         is_aligned(p.q, 16) && is_aligned(p.k_cache, 16) && is_aligned(p.v_cache, 16) &&
         (p.q_stride % 8 == 0 || p.tokens == 1);
}

template <typename C>
bool flash_decode_form_fits(const paged_attention_params<bf16, C>& p) {
  return p.heads / p.kv_heads <= 16;
}

template <typename C>
cudaError_t flash_attention(const paged_attention_params<bf16, C>& p, bool decode_form,
                            attention_tokens which, int split_keys, cudaStream_t stream) {
  if (p.head_dim == 64) {
    return decode_form ? launch<64, 1, C>(p, which, split_keys, stream)
                       : launch<64, 4, C>(p, which, split_keys, stream);
  }
  return decode_form ? launch<128, 1, C>(p, which, split_keys, stream)
                     : launch<128, 4, C>(p, which, split_keys, stream);
}

#define PM_FLASH_ATTENTION(C)                                                                    \
  template bool flash_attention_supports(const paged_attention_params<bf16, C>&);               \
  template bool flash_decode_form_fits(const paged_attention_params<bf16, C>&);                 \
  template cudaError_t flash_attention(const paged_attention_params<bf16, C>&, bool,            \
                                       attention_tokens, int, cudaStream_t);
PM_FLASH_ATTENTION(bf16)
PM_FLASH_ATTENTION(fp8)
#undef PM_FLASH_ATTENTION

} // namespace proofmesh::kernels::cuda
