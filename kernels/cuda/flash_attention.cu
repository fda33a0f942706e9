// Launch shape: grid (ceil(tokens / tokens_per_block), kv_heads, splits), 128 threads; dynamic
// shared memory holds the block's query rows and three stages of a K tile and a V tile, each tile
// 64 keys by head_dim, rows swizzled (16-byte chunk c of row r sits at c ^ (r % 8)) so that the
// eight rows one ldmatrix reads at a column fall in distinct bank groups. The prefill form at
// head_dim 128 lays its tiles in slabs of 64 dims (64 rows of 128 bytes, swizzled the same way
// within a row): that is wgmma's 128-byte swizzle, so its descriptors read a tile as it lands.
//
// Per tile of 64 keys, each warp, on its 16 rows and its share of the keys (all 64 in the
// prefill form, 16 in the decode form):
//   scores   S = Q K^T by mma (Q's fragments stay in registers for the whole walk; K's come from
//            shared memory by ldmatrix), scaled by scale * log2(e) so exp2 serves as exp. On
//            sm_90a at head_dim 128 the prefill form's four warps are one warpgroup and both
//            products are wgmma (A from registers, B read from the stage by descriptor): the
//            tile is read from shared memory once for all 64 rows instead of once per warp,
//            which bound mma.sync;
//   mask     a key past the run's range or past the row's own position scores -inf;
//   softmax  the row max of the tile is reduced over the four threads that share a row; the
//            running max, the per-thread partial sums and the accumulators are rescaled;
//   values   O += P V, with P rounded to bf16 in place as the A operand (the C layout of two
//            8-key tiles is the A layout of one 16-key step) and V read by transposing ldmatrix.
// The next two tiles' copies are in flight while this one is computed. A row whose max is still
// -inf (masked so far, or no row at all) subtracts 0 instead, so no -inf - -inf NaN appears.
// Keys past the range are zero-filled, not read: the cache may hold NaN there.
// An FP8 cache's stages hold e4m3 codes and per-key scales, half the bytes in flight.
//   decode form   each warp reads its 16 keys' codes straight into f16 mma fragments
//                 (fp8_fragments.cuh: codes widen exactly to f16); K's scales multiply the scores,
//                 V's the probabilities, relative to a running unit (the largest V scale seen,
//                 so the f16 probabilities stay at most 1) that the accumulators are kept in;
//                 queries are taken as f16 with the softmax scale folded in. Half the shared
//                 memory of a bf16 stage lets 3 blocks share an SM instead of 2.
//   prefill form  all four warps read every key of a tile, so converting in registers would
//                 convert it four times: the block widens a landed stage once (code * scale,
//                 rounded to bf16) into one bf16 K/V tile, at the cost of a second barrier.
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/fp8_fragments.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/shared_memory.cuh"
#include "kernels/cuda/wgmma.cuh"

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
  // FP8 in the decode form: fragments from the codes; in the prefill form: widened bf16 K/V.
  static constexpr bool registers = is_fp8<C> && WARPS_M == 1;
  static constexpr int widened_bytes = is_fp8<C> && !registers ? 2 * tile_bytes : 0;
  // Q, the widened tiles, then the stages.
  static constexpr int smem = q_bytes + widened_bytes + stages * stage_bytes;
  // The decode form merges its warps' accumulators in the K/V region, rows of HD + 4 floats
  // (the pad spreads a store's rows over the banks).
  static constexpr int merge_stride = HD + 4;
  static_assert(WARPS_M == 4 || 4 * 16 * merge_stride * 4 <= widened_bytes + stages * stage_bytes);
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

// The path whose tiles wgmma reads by descriptor: the prefill form at head_dim 128 (at 64 the same
// code failed the kernel tests on the H200: runs over several tiles, small errors; its only
// instruction that 128 does not also use is P V's m64n64k16 with B MN-major, one swizzle atom
// wide; until that is understood, 64 keeps mma.sync).
template <int HD, int WARPS_M>
constexpr bool wgmma_tiles = WARPS_M == 4 && HD == 128;

// The byte offset of 16-byte chunk c of key row `row` in a bf16 K or V tile. The wgmma path's
// tiles (the prefill form at head_dim 128) are slabs of 64 dims, rows of 128 bytes swizzled
// within the row (the launch shape's comment); the others keep whole rows, the same bytes at
// head_dim 64, whose addressing ptxas compiles to fewer registers (at 128 in the decode form 168
// against 237; at 64 in the prefill form 135 against 230, a block an SM fewer).
template <int HD, int WARPS_M>
__device__ __forceinline__ uint32_t kv_chunk(int row, int c) {
  if constexpr (wgmma_tiles<HD, WARPS_M>) {
    return static_cast<uint32_t>((c / 8) * block_keys * 128 + row * 128 +
                                 ((c % 8) ^ (row % 8)) * 16);
  } else {
    return swizzled<HD / 8>(row, c);
  }
}

// One 64-key tile of K and V into a stage of shared memory; keys at or past key_end are zeros.
// Consecutive lanes copy consecutive 16-byte chunks of a row (whole rows per warp instruction).
// A warp's instructions cover 16 rows in all: lane l (mod 16) finds the cache slot of the
// warp's l-th row, once per tile, and the copies take it by shuffle; per-chunk addressing would
// repeat the division and the block-table read for every 16 bytes (prefill measured 20% slower).
template <int HD, int WARPS_M, typename C>
__device__ __forceinline__ void load_tile(const paged_attention_params<bf16, C>& p,
                                          const block_work& w, int base, uint32_t stage) {
  using S = tile_shape<HD, WARPS_M, C>;
  constexpr int row_chunks = is_fp8<C> ? HD / 16 : HD / 8; // 16-byte chunks a row
  constexpr int rows_per_step = 32 / row_chunks;          // a warp instruction's rows
  constexpr int steps = block_keys * row_chunks / threads;
  static_assert(steps * rows_per_step == 16);
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  auto row_of = [&](int step, int sub) {
    return step * (threads / row_chunks) + warp * rows_per_step + sub;
  };
  const int l = lane % 16;
  const int my_row = row_of(l / rows_per_step, l % rows_per_step);
  const int64_t my_slot = slot_of(w, base + my_row, static_cast<int>(p.block_size));
  const int c = lane % row_chunks;
#pragma unroll
  for (int step = 0; step < steps; ++step) {
    const int row = row_of(step, lane / row_chunks);
    const int64_t slot =
        __shfl_sync(0xffffffffu, my_slot, step * rows_per_step + lane / row_chunks);
    const int64_t offset = (slot * p.kv_heads + w.kvh) * HD;
    const bool fill = base + row < w.key_end;
    if constexpr (is_fp8<C>) {
      const uint32_t at = stage + code_chunk<HD>(row, c);
      cp_async_16(at, p.k_cache + offset + c * 16, fill);
      cp_async_16(at + S::code_bytes, p.v_cache + offset + c * 16, fill);
    } else {
      const uint32_t at = stage + kv_chunk<HD, WARPS_M>(row, c);
      cp_async_16(at, p.k_cache + offset + c * 8, fill);
      cp_async_16(at + S::tile_bytes, p.v_cache + offset + c * 8, fill);
    }
  }
  if constexpr (is_fp8<C>) {
    // The row's K scale from lanes 0-15, its V scale from lanes 16-31.
    const int which = lane / 16;
    const uint32_t at = stage + 2 * S::code_bytes + (which * block_keys + my_row) * 4;
    cp_async_4(at, (which == 0 ? p.k_scales : p.v_scales) + my_slot * p.kv_heads + w.kvh,
               base + my_row < w.key_end);
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
    const uint2 codes = *reinterpret_cast<const uint2*>(stage + which * S::code_bytes +
                                                        code_chunk<HD>(row, c / 2) + c % 2 * 8);
    const float scale = scales[which * block_keys + row];
    const uint4 out = {widen_pair(codes.x & 0xffffu, scale), widen_pair(codes.x >> 16, scale),
                       widen_pair(codes.y & 0xffffu, scale), widen_pair(codes.y >> 16, scale)};
    *reinterpret_cast<uint4*>(tiles + which * S::tile_bytes + kv_chunk<HD, WARPS_M>(row, c)) = out;
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

// The decode form's 16 query rows (bf16 in shared memory) as f16 A fragments in the FP8
// fragments' dim order, times the softmax scale in log2 units; past f16's range a value
// saturates (NaN stays NaN).
template <int HD>
__device__ __forceinline__ void f16_queries(const unsigned char* q, float scale,
                                            uint32_t (&qa)[HD / 16][4]) {
  const int lane = static_cast<int>(threadIdx.x) % 32, g = lane / 4, t4 = lane % 4;
  auto to_f16 = [scale](uint32_t pair) {
    const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&pair));
    auto saturate = [](float x) { return fabsf(x) > 65504.0f ? copysignf(65504.0f, x) : x; };
    return pack_f16(saturate(f.x * scale), saturate(f.y * scale));
  };
#pragma unroll
  for (int ks = 0; ks < HD / 16; ++ks) {
    const int dim = 64 * (ks / 4) + 16 * t4 + 4 * (ks % 4);
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const uint2 raw = *reinterpret_cast<const uint2*>(
          q + swizzled<HD / 8>(g + 8 * half, dim / 8) + dim % 8 * 2);
      qa[ks][half] = to_f16(raw.x);     // dims dim, dim + 1: the k pair (2t, 2t + 1)
      qa[ks][2 + half] = to_f16(raw.y); // dims dim + 2, dim + 3: the k pair (2t + 8, 2t + 9)
    }
  }
}

// Scores of the warp's 16 keys from an FP8 K tile: score tile nt's column n is key
// 4(n / 2) + 2nt + n % 2, so a thread's B operand is its key's row, four k-steps a chunk.
template <int HD>
__device__ __forceinline__ void fp8_scores(const unsigned char* k_codes, int key0,
                                           const uint32_t (&qa)[HD / 16][4], float (&s)[2][4]) {
  const int lane = static_cast<int>(threadIdx.x) % 32, g = lane / 4, t4 = lane % 4;
#pragma unroll
  for (int nt = 0; nt < 2; ++nt) {
    s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
    const int row = key0 + 4 * (g / 2) + 2 * nt + g % 2;
#pragma unroll
    for (int h = 0; h < HD / 64; ++h) {
      const uint4 c = *reinterpret_cast<const uint4*>(k_codes + code_chunk<HD>(row, 4 * h + t4));
      const uint32_t words[4] = {c.x, c.y, c.z, c.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        uint32_t b0, b1;
        e4m3x4_to_f16x2(words[j], b0, b1);
        mma_f16_16816(s[nt], qa[4 * h + j], b0, b1);
      }
    }
  }
}

// O += P V over the warp's 16 keys from an FP8 V tile. A thread's keys are 4t..4t+3 (its
// scores' keys, so P needs no shuffle); output tile d's column n is dim (HD / 8) n + d, so its
// V operand is HD / 8 consecutive codes of each of the four rows, byte-transposed to key pairs.
template <int HD>
__device__ __forceinline__ void fp8_values(const unsigned char* v_codes, int key0,
                                           const uint32_t (&pa)[4], float (&o)[HD / 8][4]) {
  constexpr int words = HD / 32; // 4-code words a thread takes from each row
  const int lane = static_cast<int>(threadIdx.x) % 32, g = lane / 4, t4 = lane % 4;
  uint32_t w[4][words];
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int row = key0 + 4 * t4 + j;
    if constexpr (HD == 128) {
      const uint4 c = *reinterpret_cast<const uint4*>(v_codes + code_chunk<HD>(row, g));
      w[j][0] = c.x, w[j][1] = c.y, w[j][2] = c.z, w[j][3] = c.w;
    } else {
      const uint2 c =
          *reinterpret_cast<const uint2*>(v_codes + code_chunk<HD>(row, g / 2) + g % 2 * 8);
      w[j][0] = c.x, w[j][1] = c.y;
    }
  }
#pragma unroll
  for (int q = 0; q < words; ++q) {
    const uint32_t in[4] = {w[0][q], w[1][q], w[2][q], w[3][q]};
    uint32_t pairs[4]; // pairs[i]: keys 4t..4t+3 of dim (HD / 8) g + 4q + i
    transpose_bytes(in, pairs);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      uint32_t b0, b1;
      e4m3x4_to_f16x2(pairs[i], b0, b1);
      mma_f16_16816(o[4 * q + i], pa, b0, b1);
    }
  }
}

__device__ __forceinline__ float lane_of(const float4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// Attends one run; the block's threads all call it. Leaves shared memory free for the next run.
template <int HD, int WARPS_M, typename C>
__device__ void attend_run(const paged_attention_params<bf16, C>& p, const block_work& w,
                           const int32_t* tok_pos, unsigned char* smem, float* warp_max,
                           float* warp_sum) {
  using S = tile_shape<HD, WARPS_M, C>;
  constexpr int n_tiles = S::warp_keys / 8; // 8-key score tiles per warp
  constexpr int d_tiles = HD / 8;           // 8-dim output tiles per row
  // The prefill form's products as wgmma (the block is one warpgroup of 64 rows).
  constexpr bool hgmma = PM_HAS_WGMMA && wgmma_tiles<HD, WARPS_M>;
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

  const float scale = p.scale * log2e;
  uint32_t qa[HD / 16][4];
  if constexpr (S::registers) {
    f16_queries<HD>(smem, scale, qa);
  } else {
#pragma unroll
    for (int ks = 0; ks < HD / 16; ++ks) {
      const int row = warp_m * 16 + lane % 8 + ((lane / 8) % 2) * 8;
      ldmatrix_x4(qa[ks], q_s + swizzled<S::chunks>(row, 2 * ks + lane / 16));
    }
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

  float o[d_tiles][4];
#pragma unroll
  for (int d = 0; d < d_tiles; ++d) {
    o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;
  }
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  // FP8 fragments: the accumulators hold O / unit, unit the largest V scale so far (0: none yet).
  float unit = S::registers ? 0.0f : 1.0f;

  int stage = 0;
  for (int base = w.key_begin; base < w.key_end; base += block_keys) {
    const int landed = stage;
    uint32_t k_s = kv_s + landed * S::stage_bytes;
    uint32_t v_s = k_s + S::tile_bytes;
    cp_async_wait<1>(); // this thread's copies of this tile have landed
#if PM_HAS_WGMMA
    if constexpr (hgmma && !is_fp8<C>) {
      fence_proxy_async(); // ... and are visible to the tensor cores' reads
    }
#endif
    __syncthreads(); // everyone's have, and everyone is done with the previous tile
    const int ahead = base + 2 * block_keys;
    const int ahead_stage = stage == 0 ? 2 : stage - 1;
    if (ahead < w.key_end) {
      load_tile<HD, WARPS_M>(p, w, ahead, kv_s + ahead_stage * S::stage_bytes);
    }
    cp_async_commit();
    stage = stage == stages - 1 ? 0 : stage + 1;
    if constexpr (is_fp8<C> && !S::registers) {
      widen_tile<HD, WARPS_M>(smem + S::q_bytes + S::widened_bytes + landed * S::stage_bytes,
                              smem + S::q_bytes);
#if PM_HAS_WGMMA
      if constexpr (hgmma) {
        fence_proxy_async();
      }
#endif
      __syncthreads(); // the widened tiles are whole
      k_s = widened_s;
      v_s = widened_s + S::tile_bytes;
    }

    const int key0 = warp_n * S::warp_keys; // this warp's first key in the tile
    float s[n_tiles][4];
    // FP8 fragments: the stage, and the K and V scales of this thread's keys 4t..4t+3.
    const unsigned char* codes = smem + S::q_bytes + landed * S::stage_bytes;
    float4 k_scale{}, v_scale{};
    if constexpr (S::registers) {
      const float* scales = reinterpret_cast<const float*>(codes + 2 * S::code_bytes);
      k_scale = *reinterpret_cast<const float4*>(scales + key0 + 4 * t4);
      v_scale = *reinterpret_cast<const float4*>(scales + block_keys + key0 + 4 * t4);
      fp8_scores<HD>(codes, key0, qa, s);
    } else if constexpr (hgmma) {
#if PM_HAS_WGMMA
      // Step ks reads dims 16ks..16ks+15 of all 64 keys: 32 bytes into each row of its slab.
      wgmma_fence();
#pragma unroll
      for (int ks = 0; ks < HD / 16; ++ks) {
        const uint64_t k_desc =
            wgmma_descriptor(k_s + kv_chunk<HD, WARPS_M>(0, 2 * ks), 16, 1024);
        wgmma_rs<64>::run<0>(s, qa[ks], k_desc, ks > 0);
      }
      wgmma_commit();
      wgmma_wait<0>();
#endif
    } else {
#pragma unroll
      for (int nt = 0; nt < n_tiles; ++nt) {
        s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
        for (int ks2 = 0; ks2 < HD / 32; ++ks2) {
          uint32_t kb[4];
          ldmatrix_x4(kb,
                      k_s + kv_chunk<HD, WARPS_M>(key0 + nt * 8 + lane % 8, 4 * ks2 + lane / 8));
          mma_bf16_16816(s[nt], qa[2 * ks2], kb[0], kb[1]);
          mma_bf16_16816(s[nt], qa[2 * ks2 + 1], kb[2], kb[3]);
        }
      }
    }
    // The key of score (nt, e) within the tile, and what its score is multiplied by.
    auto key_of = [&](int nt, int e) {
      return S::registers ? key0 + 4 * t4 + 2 * nt + (e & 1) : key0 + nt * 8 + 2 * t4 + (e & 1);
    };
    auto factor = [&](int nt, int e) {
      return S::registers ? lane_of(k_scale, 2 * nt + (e & 1)) : scale;
    };
    float tile_max[2] = {-INFINITY, -INFINITY};
    if (base + block_keys <= w.key_end && base + block_keys - 1 <= least) {
#pragma unroll
      for (int nt = 0; nt < n_tiles; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[nt][e] *= factor(nt, e);
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
    } else {
#pragma unroll
      for (int nt = 0; nt < n_tiles; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = base + key_of(nt, e);
          const bool seen = key < w.key_end && key <= pos[e / 2];
          s[nt][e] = seen ? s[nt][e] * factor(nt, e) : -INFINITY;
          tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
        }
      }
    }
    // FP8 fragments: the unit grows to this tile's largest V scale (the quad holds all 16 keys'),
    // carry moves the accumulators to it, and v_rel takes P to P * scale / unit, at most 1.
    float carry = 1.0f;
    float4 v_rel{};
    if constexpr (S::registers) {
      const float grown = fmaxf(
          unit, quad_max(fmaxf(fmaxf(v_scale.x, v_scale.y), fmaxf(v_scale.z, v_scale.w))));
      carry = grown > 0.0f ? unit / grown : 1.0f;
      unit = grown;
      const float inv = grown > 0.0f ? 1.0f / grown : 0.0f;
      v_rel = make_float4(v_scale.x * inv, v_scale.y * inv, v_scale.z * inv, v_scale.w * inv);
    }
    float sub[2], o_rescale[2];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const float new_max = fmaxf(m[half], quad_max(tile_max[half]));
      sub[half] = new_max == -INFINITY ? 0.0f : new_max;
      const float rescale = fast_exp2(m[half] - sub[half]);
      l[half] *= rescale;
      o_rescale[half] = rescale * carry;
      m[half] = new_max;
    }
    // Deep into a long context the max rarely moves: a warp none of whose rows changed its max
    // (or unit) has rescales of exactly 1 and skips the HD / 2 multiplies.
    if (__any_sync(0xffffffffu, o_rescale[0] != 1.0f || o_rescale[1] != 1.0f)) {
#pragma unroll
      for (int d = 0; d < d_tiles; ++d) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          o[d][e] *= o_rescale[e / 2];
        }
      }
    }
#pragma unroll
    for (int nt = 0; nt < n_tiles; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = fast_exp2(s[nt][e] - sub[e / 2]);
        l[e / 2] += s[nt][e];
      }
    }
    if constexpr (S::registers) {
      const uint32_t pa[4] = {pack_f16(s[0][0] * v_rel.x, s[0][1] * v_rel.y),
                              pack_f16(s[0][2] * v_rel.x, s[0][3] * v_rel.y),
                              pack_f16(s[1][0] * v_rel.z, s[1][1] * v_rel.w),
                              pack_f16(s[1][2] * v_rel.z, s[1][3] * v_rel.w)};
      fp8_values<HD>(codes + S::code_bytes, key0, pa, o);
    } else if constexpr (hgmma) {
#if PM_HAS_WGMMA
      // Step kk reads keys 16kk..16kk+15 (two 8-row atoms, 1,024 bytes apart) MN-major, all HD
      // dims (slabs of 64 dims, a tile's 64 rows apart).
      uint32_t pa[4][4];
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        pa[kk][0] = pack_bf16(s[2 * kk][0], s[2 * kk][1]);
        pa[kk][1] = pack_bf16(s[2 * kk][2], s[2 * kk][3]);
        pa[kk][2] = pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        pa[kk][3] = pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
      }
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        wgmma_rs<HD>::run<1>(o, pa[kk],
                             wgmma_descriptor(v_s + kk * 16 * 128, block_keys * 128, 1024), 1);
      }
      wgmma_commit();
      wgmma_wait<0>();
#endif
    } else {
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
          ldmatrix_x4_trans(vb, v_s + kv_chunk<HD, WARPS_M>(row, 2 * d2 + lane / 16));
          mma_bf16_16816(o[2 * d2], pa, vb[0], vb[1]);
          mma_bf16_16816(o[2 * d2 + 1], pa, vb[2], vb[3]);
        }
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
    float* o_s = reinterpret_cast<float*>(smem + S::q_bytes); // [warp][16][merge_stride]
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
#pragma unroll
        for (int b = 0; b < 2; ++b) { // column 2t + b of output tile d
          const int dim = S::registers ? d_tiles * (2 * t4 + b) + d : d * 8 + 2 * t4 + b;
          o_s[(warp_n * 16 + row) * S::merge_stride + dim] = o[d][2 * half + b] * unit;
        }
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
        num += weight * o_s[(v * 16 + row) * S::merge_stride + d];
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

// The FP8 decode form's shared memory would let 4 blocks share an SM; its registers are held to
// 3 (168 a thread), as at 4 (128) ptxas spills and the kernel lab measured bs 16 at 32K keys
// 17% slower (0 below leaves ptxas its own choice).
constexpr int fp8_decode_blocks = 3;
template <int HD, int WARPS_M, typename C>
__global__ void __launch_bounds__(threads,
                                  tile_shape<HD, WARPS_M, C>::registers ? fp8_decode_blocks : 0)
    flash_attention_kernel(paged_attention_params<bf16, C> p, int tokens_per_block,
                           int split_keys, attention_tokens which) {
  // 1,024-aligned: wgmma's swizzle atoms (the static arrays below are 1 KB, so nothing is lost).
  extern __shared__ __align__(1024) unsigned char smem[];
  __shared__ int32_t tok_seq[max_block_tokens];
  __shared__ int32_t tok_pos[max_block_tokens];
  __shared__ float warp_max[4 * 16], warp_sum[4 * 16];
#if PM_HAS_WGMMA
  if (wgmma_tiles<HD, WARPS_M> && (shared_address(smem) & 1023u) != 0) {
    __trap(); // the compiler did not honour the alignment the descriptors assume
  }
#endif
  wait_for_upstream();
  block_work w{};
  // The prefill form takes its token blocks last first: a causal run's later tokens attend more
  // keys, so the heaviest blocks start in the first wave and the light ones fill the tail
  // (longest first), instead of the heaviest starting last and running alone.
  const int64_t bx = WARPS_M == 4 ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
  w.first_token = bx * tokens_per_block;
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
  return launch_dependent(flash_attention_kernel<HD, WARPS_M, C>, grid, threads, S::smem, stream, p,
                          tokens_per_block, keys, which);
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
