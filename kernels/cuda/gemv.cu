// Two forms (gemv_form). Per row: 256 threads (8 warps) per block, one output feature per warp,
// grid n / 8. Each lane first issues up to 16 of its row's 16-byte weight loads, so a row of
// k <= 4096 costs one memory round trip (the kernel lab showed 4-deep batches paying four round
// trips on short rows); then the block stages x (m rows of k bf16) in shared memory while they
// fly. A lane holds M float accumulators. The gated variant gives a warp a feature's gate row and
// then its up row, and writes the activation. Streaming: a resident grid whose warps walk runs of
// rows (below). Weights are read with the non-coherent, no-L1-allocate path: each is used once.
#include "kernels/cuda/gemv.cuh"

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/device_sms.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/shared_memory.cuh"

#include <atomic>
#include <type_traits>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int warps_per_block = 8;
// Weight vectors in flight per lane: 16 cover a row of k <= 4,096 in one round trip, at 128
// registers (2 blocks an SM; ptxas's own choice was 148, one block). Rows of k <= 2,048 (the
// 1B shape's qkv, o and gate_up) need only 8; that form is held to 80 registers, 3 blocks an
// SM: half again the rows in flight, so a short matrix takes fewer waves of round trips.
constexpr int long_batch = 16;
constexpr int short_batch = 8;
constexpr int long_blocks_per_sm = 2;
constexpr int short_blocks_per_sm = 3;
constexpr size_t max_x_bytes = 96 * 1024;

__device__ __forceinline__ uint4 load_streaming(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ void unpack(uint4 v, float (&f)[8]) {
  const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f[2 * i] = __uint_as_float(words[i] << 16);
    f[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
  }
}

// N weight vectors of row w for one lane: vectors first + 32u; past the row's vecs, zeros.
template <int N>
__device__ __forceinline__ void load_vectors(const uint4* w, int64_t first, int64_t vecs,
                                             uint4 (&wv)[N]) {
#pragma unroll
  for (int u = 0; u < N; ++u) {
    const int64_t v = first + u * 32;
    wv[u] = v < vecs ? load_streaming(w + v) : make_uint4(0, 0, 0, 0);
  }
}

// acc[m] += the N vectors (first + 32u) · x row m's same vectors.
template <int M, int N>
__device__ __forceinline__ void accumulate(const uint4 (&wv)[N], int64_t first, int64_t vecs,
                                           const uint4* x_shared, float (&acc)[M]) {
#pragma unroll
  for (int u = 0; u < N; ++u) {
    const int64_t v = first + u * 32;
    if (v < vecs) {
      float wf[8];
      unpack(wv[u], wf);
#pragma unroll
      for (int m = 0; m < M; ++m) {
        float xf[8];
        unpack(x_shared[m * vecs + v], xf);
#pragma unroll
        for (int e = 0; e < 8; ++e) {
          acc[m] = fmaf(wf[e], xf[e], acc[m]);
        }
      }
    }
  }
}

// Every lane's acc becomes the warp's sum.
template <int M>
__device__ __forceinline__ void warp_sum(float (&acc)[M]) {
#pragma unroll
  for (int m = 0; m < M; ++m) {
    for (int o = 16; o > 0; o /= 2) {
      acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], o);
    }
  }
}

// x's m rows into shared memory, by ordinary cached loads after the wait: not the read-only
// path, whose promise (unchanged for the kernel's lifetime) does not hold when the kernel before
// writes x while this grid is resident. Every block stages the same x, so L1 keeps it for an
// SM's next block; L2-only loads (.cg) were timed 1-2.6 µs slower on rows of k = 4,096 (H100
// lab). The whole block calls it, then __syncthreads.
template <int M>
__device__ __forceinline__ void stage_x(const gemv_params& p, int64_t vecs, uint4* x_shared) {
  const uint4* x_global = reinterpret_cast<const uint4*>(p.x);
  for (int64_t i = threadIdx.x; i < M * vecs; i += warps_per_block * 32) {
    x_shared[i] = __ldca(x_global + i);
  }
}

// Lane 0's store of one output feature's m sums (plus its bias).
template <int M, typename Out>
__device__ __forceinline__ void store_feature(const gemv_params& p, int64_t feature,
                                              const float (&acc)[M]) {
  Out* y = static_cast<Out*>(p.y);
  const float b = p.bias == nullptr ? 0.0f : to_float(static_cast<const Out*>(p.bias)[feature]);
#pragma unroll
  for (int m = 0; m < M; ++m) {
    y[m * p.n + feature] = from_float<Out>(acc[m] + b);
  }
}

template <int M, typename Out, int BATCH, bool GATED>
__global__ void __launch_bounds__(warps_per_block * 32,
                                  BATCH == short_batch ? short_blocks_per_sm : long_blocks_per_sm)
    gemv_kernel(gemv_params p) {
  extern __shared__ uint4 x_shared[]; // [M, k / 8]
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t vecs = p.k / 8;
  // GATED: warp `feature` reads rows feature (gate) and n / 2 + feature (up) and writes
  // silu(gate) · up; otherwise it reads and writes row `feature`.
  const int64_t outputs = GATED ? p.n / 2 : p.n;
  const int64_t feature = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
  const bool active = feature < outputs;
  const uint4* w = reinterpret_cast<const uint4*>(p.w + (active ? feature : 0) * p.k);
  // The row's first batch of weights is asked for before anything else: no kernel writes
  // weights, so the loads go ahead of wait_for_upstream (they overlap the previous kernel's
  // tail) and of x's staging (whose round trip they overlap too).
  uint4 wv[BATCH];
  load_vectors(w, active ? lane : vecs, vecs, wv); // an idle warp loads nothing
  wait_for_upstream();
  stage_x<M>(p, vecs, x_shared);
  __syncthreads();
  if (!active) {
    return;
  }
  float acc[M], gate[M];
#pragma unroll
  for (int r = 0; r < (GATED ? 2 : 1); ++r) {
    if (r == 1) { // the up row: its first batch now (a second round trip)
      w = reinterpret_cast<const uint4*>(p.w + (outputs + feature) * p.k);
      load_vectors(w, lane, vecs, wv);
    }
#pragma unroll
    for (int m = 0; m < M; ++m) {
      acc[m] = 0.0f;
    }
    for (int64_t base = lane;;) {
      accumulate(wv, base, vecs, x_shared, acc);
      base += 32 * BATCH;
      if (base >= vecs) {
        break;
      }
      load_vectors(w, base, vecs, wv);
    }
    warp_sum(acc);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      if (r == 0) {
        gate[m] = acc[m]; // GATED: the gate row's sum; acc goes on to the up row's
      }
    }
  }
  if (lane != 0) {
    return;
  }
  if constexpr (GATED) {
    // As the unfused pair computes it: gate and up rounded to bf16 (the gate_up product's
    // stores), then the silu_mul kernel's arithmetic and rounding.
    Out* y = static_cast<Out*>(p.y);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const float g = to_float(from_float<__nv_bfloat16>(gate[m]));
      const float u = to_float(from_float<__nv_bfloat16>(acc[m]));
      y[m * outputs + feature] = from_float<Out>(silu_times(g, u));
    }
  } else {
    store_feature<M, Out>(p, feature, acc);
  }
}

// The streaming form. A warp owns rows [first_row, end_row) and walks them as one sequence of
// chunks: chunk c is part c % parts of row c / parts, and a lane's share of a chunk is
// chunk_vecs 16-byte vectors, 32 apart. Two register buffers alternate: the next chunk's loads
// are issued before the current chunk is used, so a warp always has a chunk in flight, and the
// grid, resident in one wave, never drains between rows.
constexpr int chunk_vecs = 8;                   // per lane: a warp's chunk is 4 KB of weights
constexpr int chunk_span = 32 * chunk_vecs;     // vectors of a row one chunk covers
constexpr int streaming_blocks_per_sm = 2;

struct chunk_pos {
  int64_t row;
  int64_t part;
};

__device__ __forceinline__ void advance(chunk_pos& c, int64_t parts) {
  if (++c.part == parts) {
    c.part = 0;
    ++c.row;
  }
}

__device__ __forceinline__ void fetch_chunk(const gemv_params& p, chunk_pos c, int lane,
                                            int64_t vecs, uint4 (&wv)[chunk_vecs]) {
  load_vectors(reinterpret_cast<const uint4*>(p.w + c.row * p.k), c.part * chunk_span + lane,
               vecs, wv);
}

// acc += this chunk's products; at a row's last part, the row's sums go out and acc restarts.
template <int M, typename Out>
__device__ __forceinline__ void use_chunk(const gemv_params& p, chunk_pos c, int64_t parts,
                                          int lane, int64_t vecs, const uint4* x_shared,
                                          const uint4 (&wv)[chunk_vecs], float (&acc)[M]) {
  accumulate(wv, c.part * chunk_span + lane, vecs, x_shared, acc);
  if (c.part != parts - 1) {
    return;
  }
  warp_sum(acc);
  if (lane == 0) {
    store_feature<M, Out>(p, c.row, acc);
  }
#pragma unroll
  for (int m = 0; m < M; ++m) {
    acc[m] = 0.0f;
  }
}

template <int M, typename Out>
__global__ void __launch_bounds__(warps_per_block * 32, streaming_blocks_per_sm)
    gemv_streaming_kernel(gemv_params p, int64_t rows_per_warp) {
  extern __shared__ uint4 x_shared[]; // [M, k / 8]
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t vecs = p.k / 8;
  const int64_t parts = (vecs + chunk_span - 1) / chunk_span;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
  const int64_t first_row = warp * rows_per_warp;
  const int64_t end_row = first_row + rows_per_warp < p.n ? first_row + rows_per_warp : p.n;
  const int64_t chunks = end_row > first_row ? (end_row - first_row) * parts : 0;
  uint4 a[chunk_vecs], b[chunk_vecs];
  chunk_pos at{first_row, 0};
  if (chunks > 0) {
    fetch_chunk(p, at, lane, vecs, a); // weights only: ahead of the wait, as the per-row form
  }
  wait_for_upstream();
  stage_x<M>(p, vecs, x_shared);
  __syncthreads();
  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) {
    acc[m] = 0.0f;
  }
  chunk_pos next = at;
  advance(next, parts);
  // Unrolled by two so the buffers swap roles without copies.
  for (int64_t c = 0; c < chunks;) {
    if (c + 1 < chunks) {
      fetch_chunk(p, next, lane, vecs, b);
    }
    use_chunk<M, Out>(p, at, parts, lane, vecs, x_shared, a, acc);
    at = next;
    advance(next, parts);
    if (++c == chunks) {
      break;
    }
    if (c + 1 < chunks) {
      fetch_chunk(p, next, lane, vecs, a);
    }
    use_chunk<M, Out>(p, at, parts, lane, vecs, x_shared, b, acc);
    at = next;
    advance(next, parts);
    ++c;
  }
}

template <int M, typename Out>
cudaError_t launch_streaming(const gemv_params& p, int sms, cudaStream_t stream) {
  // Every warp the same count of rows, in as many resident warps as that allows.
  const int64_t resident_warps = int64_t{sms} * streaming_blocks_per_sm * warps_per_block;
  const int64_t rows_per_warp = (p.n + resident_warps - 1) / resident_warps;
  const int64_t warps = (p.n + rows_per_warp - 1) / rows_per_warp;
  const auto grid = static_cast<unsigned>((warps + warps_per_block - 1) / warps_per_block);
  const size_t smem = static_cast<size_t>(p.m * p.k) * sizeof(__nv_bfloat16);
  static std::atomic<uint64_t> raised{0};
  PM_CUDA_TRY(opt_in_shared_memory(reinterpret_cast<const void*>(gemv_streaming_kernel<M, Out>),
                                   static_cast<int>(max_x_bytes), raised));
  return launch_dependent(gemv_streaming_kernel<M, Out>, grid, warps_per_block * 32, smem, stream,
                          p, rows_per_warp);
}

template <int M, typename Out, int BATCH, bool GATED = false>
cudaError_t launch_rows(const gemv_params& p, cudaStream_t stream) {
  const int64_t outputs = GATED ? p.n / 2 : p.n;
  const auto grid = static_cast<unsigned>((outputs + warps_per_block - 1) / warps_per_block);
  const size_t smem = static_cast<size_t>(p.m * p.k) * sizeof(__nv_bfloat16);
  static std::atomic<uint64_t> raised{0};
  PM_CUDA_TRY(opt_in_shared_memory(
      reinterpret_cast<const void*>(gemv_kernel<M, Out, BATCH, GATED>),
      static_cast<int>(max_x_bytes), raised));
  return launch_dependent(gemv_kernel<M, Out, BATCH, GATED>, grid, warps_per_block * 32, smem,
                          stream, p);
}

template <typename Out>
cudaError_t launch(const gemv_params& p, cudaStream_t stream) {
  // automatic stays per_row until the kernel lab has timed the streaming form on the H200.
  if (p.form == gemv_form::streaming) {
    int sms = 0;
    PM_CUDA_TRY(sms_of_current_device(sms));
    return p.m == 1 ? launch_streaming<1, Out>(p, sms, stream)
                    : launch_streaming<2, Out>(p, sms, stream);
  }
  // The short form only where the engine calls gemv (1 and 2 rows): more rows hold more
  // accumulators and x values than its 80 registers.
  const bool short_rows = p.k <= 32 * 8 * short_batch;
  if constexpr (std::is_same_v<Out, __nv_bfloat16>) {
    if (p.gated) { // 1 or 2 rows (gemv_supports)
      if (p.m == 1) {
        return short_rows ? launch_rows<1, Out, short_batch, true>(p, stream)
                          : launch_rows<1, Out, long_batch, true>(p, stream);
      }
      return short_rows ? launch_rows<2, Out, short_batch, true>(p, stream)
                        : launch_rows<2, Out, long_batch, true>(p, stream);
    }
  }
  switch (p.m) {
    case 1:
      return short_rows ? launch_rows<1, Out, short_batch>(p, stream)
                        : launch_rows<1, Out, long_batch>(p, stream);
    case 2:
      return short_rows ? launch_rows<2, Out, short_batch>(p, stream)
                        : launch_rows<2, Out, long_batch>(p, stream);
    case 3: return launch_rows<3, Out, long_batch>(p, stream);
    case 4: return launch_rows<4, Out, long_batch>(p, stream);
    case 5: return launch_rows<5, Out, long_batch>(p, stream);
    case 6: return launch_rows<6, Out, long_batch>(p, stream);
    case 7: return launch_rows<7, Out, long_batch>(p, stream);
    default: return launch_rows<8, Out, long_batch>(p, stream);
  }
}

} // namespace

bool gemv_supports(const gemv_params& p) {
  return p.m >= 1 && p.m <= max_gemv_rows && p.n >= 1 && p.n <= INT32_MAX * 8LL &&
         p.k >= 8 && p.k % 8 == 0 && p.x != nullptr && p.w != nullptr && p.y != nullptr &&
         static_cast<size_t>(p.m * p.k) * sizeof(__nv_bfloat16) <= max_x_bytes &&
         is_aligned(p.x, 16) && is_aligned(p.w, 16) &&
         (p.out_type == CUDA_R_16BF || p.out_type == CUDA_R_32F) &&
         (p.form != gemv_form::streaming || p.m <= max_streaming_gemv_rows) &&
         (!p.gated || (p.n % 2 == 0 && p.m <= max_gated_gemv_rows && p.bias == nullptr &&
                       p.out_type == CUDA_R_16BF && p.form != gemv_form::streaming));
}

cudaError_t gemv(const gemv_params& p, cudaStream_t stream) {
  if (!gemv_supports(p)) {
    return cudaErrorInvalidValue;
  }
  return p.out_type == CUDA_R_32F ? launch<float>(p, stream) : launch<__nv_bfloat16>(p, stream);
}

} // namespace proofmesh::kernels::cuda
