#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/sample.cuh"

#include <algorithm>
#include <array>
#include <atomic>
#include <cfloat>
#include <cmath>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int threads = 1024;
constexpr int hist_copies = 16;
constexpr int64_t max_split_chunks = 32;

// Order-preserving map of a float to uint32: a > b as floats iff key(a) > key(b).
__device__ __forceinline__ uint32_t key_of(float f) {
  uint32_t bits = __float_as_uint(f);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

__device__ __forceinline__ uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Shared scratch of one row's block.
struct row_shared {
  float f[threads / 32];
  unsigned long long u[threads / 32];
  int i[threads / 32];
  // Floats of one row share their top key bits, so one histogram would serialise every atomic on
  // a single bin; each pair of warps adds into its own copy instead.
  unsigned long long sub_hist[hist_copies][256];
  unsigned long long hist[256];
  uint32_t prefix;
  unsigned long long remaining;
  bool take_all;
  int count;
  int32_t ids[max_sample_logprobs];
  uint32_t keys[max_sample_logprobs];
};

__device__ float block_max(float v, row_shared& s) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (threadIdx.x % 32 == 0) s.f[threadIdx.x / 32] = v;
  __syncthreads();
  float r = -INFINITY;
  for (int w = 0; w < threads / 32; ++w) r = fmaxf(r, s.f[w]);
  __syncthreads();
  return r;
}

__device__ float block_sum(float v, row_shared& s) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) s.f[threadIdx.x / 32] = v;
  __syncthreads();
  float r = 0;
  for (int w = 0; w < threads / 32; ++w) r += s.f[w]; // fixed order: deterministic
  __syncthreads();
  return r;
}

__device__ unsigned long long block_sum_u64(unsigned long long v, row_shared& s) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) s.u[threadIdx.x / 32] = v;
  __syncthreads();
  unsigned long long r = 0;
  for (int w = 0; w < threads / 32; ++w) r += s.u[w];
  __syncthreads();
  return r;
}

// Best (score, lowest id) over the block; returns the id and sets `best_score`.
__device__ int block_argmax(float score, int id, row_shared& s, float& best_score) {
  for (int o = 16; o > 0; o /= 2) {
    float os = __shfl_xor_sync(0xffffffffu, score, o);
    int oi = __shfl_xor_sync(0xffffffffu, id, o);
    if (os > score || (os == score && oi < id)) {
      score = os;
      id = oi;
    }
  }
  if (threadIdx.x % 32 == 0) {
    s.f[threadIdx.x / 32] = score;
    s.i[threadIdx.x / 32] = id;
  }
  __syncthreads();
  float best = -INFINITY;
  int best_id = INT32_MAX;
  for (int w = 0; w < threads / 32; ++w) {
    if (s.f[w] > best || (s.f[w] == best && s.i[w] < best_id)) {
      best = s.f[w];
      best_id = s.i[w];
    }
  }
  __syncthreads();
  best_score = best;
  return best_id;
}

// A row's blocks: one, or `chunks` co-resident blocks that each own a slice of the row and meet
// at row-wide reductions through the row's global state (zeroed before the launch).
struct row_global {
  unsigned long long hist[8][256]; // radix passes: [select * 4 + pass][digit]
  unsigned long long sum;          // fixed-point weight total
  unsigned long long best;         // packed argmax: key(score) << 32 | ~id
  unsigned int max_key;            // ordered key of the row maximum
  unsigned int arrived;            // barrier arrivals, monotonic
};

struct row_ctx {
  int chunks;        // blocks of this row
  int64_t begin;     // this block's slice of the row
  int64_t end;
  row_global* g;     // nullptr when chunks == 1
  unsigned phase;    // barriers passed
};

__device__ __forceinline__ float float_of_key(uint32_t k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// All blocks of the row arrive before any leaves. Co-residency is guaranteed by the cooperative
// launch; the fences order each block's global atomics before and after the wait.
__device__ void row_barrier(row_ctx& c) {
  __syncthreads();
  ++c.phase;
  if (threadIdx.x == 0) {
    __threadfence();
    atomicAdd(&c.g->arrived, 1u);
    const unsigned target = c.phase * static_cast<unsigned>(c.chunks);
    while (atomicAdd(&c.g->arrived, 0u) < target) {
      __nanosleep(64);
    }
    __threadfence();
  }
  __syncthreads();
}

__device__ float row_max(row_ctx& c, float local, row_shared& s) {
  float m = block_max(local, s);
  if (c.chunks == 1) return m;
  if (threadIdx.x == 0) atomicMax(&c.g->max_key, key_of(m));
  row_barrier(c);
  return float_of_key(__ldcg(&c.g->max_key));
}

__device__ unsigned long long row_sum_u64(row_ctx& c, unsigned long long local, row_shared& s) {
  unsigned long long v = block_sum_u64(local, s);
  if (c.chunks == 1) return v;
  if (threadIdx.x == 0) atomicAdd(&c.g->sum, v);
  row_barrier(c);
  return __ldcg(&c.g->sum);
}

// Best (score, lowest id) over the row; returns the id.
__device__ int row_argmax(row_ctx& c, float score, int id, row_shared& s) {
  float best = 0;
  int best_id = block_argmax(score, id, s, best);
  if (c.chunks == 1) return best_id;
  if (threadIdx.x == 0) {
    // A block whose slice has no candidate offers (-inf, INT32_MAX), which never wins.
    const unsigned long long packed =
        (static_cast<unsigned long long>(key_of(best)) << 32) |
        static_cast<unsigned long long>(0xffffffffu - static_cast<uint32_t>(best_id));
    atomicMax(&c.g->best, packed);
  }
  row_barrier(c);
  return static_cast<int>(0xffffffffu - static_cast<uint32_t>(__ldcg(&c.g->best) & 0xffffffffu));
}

// The largest key t such that the weight of {keys >= max(t, floor_key)} reaches `target`, by an
// exact 8-bit radix walk from the top digit over the whole row. weight(i) must return the same
// value every call. `select` (0 or 1) names this select's histograms in the row's global state.
template <typename Weight>
__device__ uint32_t radix_select(row_ctx& c, const float* row, uint32_t floor_key,
                                 unsigned long long target, Weight weight, int select,
                                 row_shared& s) {
  if (threadIdx.x == 0) {
    s.prefix = 0;
    s.remaining = target;
    s.take_all = false;
  }
  unsigned long long* my_hist = s.sub_hist[(threadIdx.x / 32) % hist_copies];
  int pass = 0;
  for (int shift = 24; shift >= 0; shift -= 8, ++pass) {
    for (int b = threadIdx.x; b < hist_copies * 256; b += threads) s.sub_hist[b / 256][b % 256] = 0;
    __syncthreads();
    const uint32_t prefix = s.prefix;
    const uint32_t high_mask = shift == 24 ? 0u : (0xffffffffu << (shift + 8));
    for (int64_t i = c.begin + threadIdx.x; i < c.end; i += threads) {
      uint32_t k = key_of(row[i]);
      if (k >= floor_key && (k & high_mask) == prefix) {
        atomicAdd(&my_hist[(k >> shift) & 0xffu], weight(i));
      }
    }
    __syncthreads();
    for (int b = threadIdx.x; b < 256; b += threads) {
      unsigned long long total = 0;
      for (int h = 0; h < hist_copies; ++h) total += s.sub_hist[h][b];
      s.hist[b] = total;
      if (c.chunks > 1 && total != 0) atomicAdd(&c.g->hist[select * 4 + pass][b], total);
    }
    if (c.chunks > 1) {
      row_barrier(c);
      for (int b = threadIdx.x; b < 256; b += threads) {
        s.hist[b] = __ldcg(&c.g->hist[select * 4 + pass][b]);
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      // Walk the bins from the top. If the target is out of reach (everything together weighs
      // less), keep taking the lowest non-empty bin: the threshold becomes the smallest key.
      // Every block of the row walks the same merged histogram to the same choice.
      unsigned long long above = 0;
      int chosen = -1, lowest = -1;
      for (int b = 255; b >= 0; --b) {
        if (s.hist[b] == 0) continue;
        lowest = b;
        if (!s.take_all && above + s.hist[b] >= s.remaining) {
          chosen = b;
          break;
        }
        above += s.hist[b];
      }
      if (chosen >= 0) {
        s.remaining -= above;
      } else {
        s.take_all = true;
        chosen = lowest < 0 ? 0 : lowest;
      }
      s.prefix = prefix | (static_cast<uint32_t>(chosen) << shift);
    }
    __syncthreads();
  }
  uint32_t t = s.prefix;
  __syncthreads();
  return t > floor_key ? t : floor_key;
}

__global__ void __launch_bounds__(threads) sample_kernel(sample_params p, row_global* global) {
  __shared__ row_shared s;
  const int64_t r = blockIdx.x;
  const float* row = p.logits + r * p.vocab;
  const sample_row_params rp = p.params[r];
  const int chunks = static_cast<int>(gridDim.y);
  const int64_t slice = (p.vocab + chunks - 1) / chunks;
  row_ctx c{.chunks = chunks,
            .begin = blockIdx.y * slice,
            .end = min(p.vocab, (blockIdx.y + 1) * slice),
            .g = chunks > 1 ? global + r : nullptr,
            .phase = 0};

  float local_max = -INFINITY;
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += threads) {
    local_max = fmaxf(local_max, row[i]);
  }
  const float max_logit = row_max(c, local_max, s);

  // Top-k logprobs (single-block rows only: the launcher never splits a row that wants them):
  // keys above the K-th largest, then ties at it in id order, sorted.
  float lse = 0;
  if (p.num_logprobs > 0) {
    float local_sum = 0;
    for (int64_t i = threadIdx.x; i < p.vocab; i += threads) local_sum += expf(row[i] - max_logit);
    lse = max_logit + logf(block_sum(local_sum, s));
    const int k = static_cast<int>(p.num_logprobs < p.vocab ? p.num_logprobs : p.vocab);
    const uint32_t kth = radix_select(c, row, 0u, static_cast<unsigned long long>(k),
                                      [](int64_t) { return 1ull; }, 0, s);
    if (threadIdx.x == 0) s.count = 0;
    __syncthreads();
    for (int64_t i = threadIdx.x; i < p.vocab; i += threads) {
      uint32_t key = key_of(row[i]);
      if (key > kth) {
        int slot = atomicAdd(&s.count, 1);
        s.ids[slot] = static_cast<int32_t>(i);
        s.keys[slot] = key;
      }
    }
    __syncthreads();
    // Ties at the K-th value fill the rest, lowest ids first, chunk by chunk in id order.
    for (int64_t base = 0; base < p.vocab && s.count < k; base += threads) {
      int64_t i = base + threadIdx.x;
      bool tie = i < p.vocab && key_of(row[i]) == kth;
      unsigned ballot = __ballot_sync(0xffffffffu, tie);
      if (threadIdx.x % 32 == 0) s.i[threadIdx.x / 32] = __popc(ballot);
      __syncthreads();
      int before = 0;
      for (int w = 0; w < static_cast<int>(threadIdx.x) / 32; ++w) before += s.i[w];
      before += __popc(ballot & ((1u << (threadIdx.x % 32)) - 1u));
      const int start = s.count;
      if (tie && start + before < k) {
        s.ids[start + before] = static_cast<int32_t>(i);
        s.keys[start + before] = kth;
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        int total = 0;
        for (int w = 0; w < threads / 32; ++w) total += s.i[w];
        s.count = min(k, start + total);
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      // Insertion sort of at most max_sample_logprobs entries: key descending, id ascending.
      for (int a = 1; a < k; ++a) {
        uint32_t kk = s.keys[a];
        int32_t id = s.ids[a];
        int b = a - 1;
        while (b >= 0 && (s.keys[b] < kk || (s.keys[b] == kk && s.ids[b] > id))) {
          s.keys[b + 1] = s.keys[b];
          s.ids[b + 1] = s.ids[b];
          --b;
        }
        s.keys[b + 1] = kk;
        s.ids[b + 1] = id;
      }
      for (int a = 0; a < k; ++a) {
        p.top_ids[r * p.num_logprobs + a] = s.ids[a];
        p.top_logprobs[r * p.num_logprobs + a] = row[s.ids[a]] - lse;
      }
    }
    __syncthreads();
  }

  // The token.
  const bool greedy = !(rp.temperature > 0.0f) || rp.top_k == 1;
  uint32_t floor_key = 0;
  const float inv_t = greedy ? 1.0f : 1.0f / rp.temperature;
  if (!greedy && rp.top_k > 1 && rp.top_k < p.vocab) {
    floor_key = radix_select(c, row, 0u, static_cast<unsigned long long>(rp.top_k),
                             [](int64_t) { return 1ull; }, 0, s);
  }
  auto fixed_weight = [&](int64_t i) {
    // exp((l - max) / T) in [0, 1], as 2^-32 fixed point: integer sums are order-independent.
    return static_cast<unsigned long long>(expf((row[i] - max_logit) * inv_t) * 4294967296.0f);
  };
  if (!greedy && rp.top_p < 1.0f) {
    unsigned long long local = 0;
    for (int64_t i = c.begin + threadIdx.x; i < c.end; i += threads) {
      if (key_of(row[i]) >= floor_key) local += fixed_weight(i);
    }
    const unsigned long long total = row_sum_u64(c, local, s);
    const auto target = static_cast<unsigned long long>(
        ceil(static_cast<double>(rp.top_p) * static_cast<double>(total)));
    floor_key = radix_select(c, row, floor_key, target < 1 ? 1 : target, fixed_weight, 1, s);
  }
  float best = -INFINITY;
  int best_id = INT32_MAX;
  const uint64_t base = mix64(rp.seed ^ mix64(rp.stream ^ mix64(rp.step)));
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += threads) {
    float score;
    if (greedy) {
      score = row[i];
    } else {
      if (key_of(row[i]) < floor_key) continue;
      // Gumbel noise from a 53-bit uniform in (0, 1).
      double u = (static_cast<double>(mix64(base ^ static_cast<uint64_t>(i)) >> 11) + 0.5) *
                 0x1.0p-53;
      score = (row[i] - max_logit) * inv_t - static_cast<float>(log(-log(u)));
    }
    if (score > best || (score == best && i < best_id)) {
      best = score;
      best_id = static_cast<int>(i);
    }
  }
  const int token = row_argmax(c, best, best_id, s);
  if (threadIdx.x == 0 && blockIdx.y == 0) {
    p.tokens[r] = token;
    if (p.num_logprobs > 0 && p.token_logprobs != nullptr) p.token_logprobs[r] = row[token] - lse;
  }
}

// Blocks per row: rows of a small batch split over the multiprocessors (at most what can be
// resident at once, which the cooperative launch needs), at least 4,096 logits per block. Big
// batches already fill the GPU with one block per row.
int chunks_for(int64_t rows, int64_t vocab, void* workspace) {
  if (workspace == nullptr || rows > max_split_sample_rows) {
    return 1;
  }
  // Blocks resident at once plus one, per device (0: not asked yet); a failed query splits
  // nothing.
  static std::array<std::atomic<int>, 64> resident_on{};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device >= static_cast<int>(resident_on.size())) {
    cudaGetLastError();
    return 1;
  }
  int resident = resident_on[static_cast<size_t>(device)].load() - 1;
  if (resident < 0) {
    int sms = 0, per_sm = 0, cooperative = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&cooperative, cudaDevAttrCooperativeLaunch, device) !=
            cudaSuccess ||
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, sample_kernel, threads, 0) !=
            cudaSuccess) {
      cudaGetLastError();
      return 1;
    }
    resident = cooperative ? sms * per_sm : 0;
    resident_on[static_cast<size_t>(device)].store(resident + 1);
  }
  const int64_t by_size = (vocab + 4095) / 4096;
  const int64_t by_room = resident / rows;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({max_split_chunks, by_size, by_room})));
}

} // namespace

int sample_row_blocks(int64_t rows, int64_t vocab, const void* workspace) {
  return chunks_for(rows, vocab, const_cast<void*>(workspace));
}

cudaError_t sample(const sample_params& p, cudaStream_t stream) {
  if (p.rows == 0) {
    return cudaSuccess;
  }
  if (p.rows < 0 || p.rows > INT32_MAX || p.vocab <= 0 || p.vocab > INT32_MAX ||
      p.num_logprobs < 0 || p.num_logprobs > max_sample_logprobs || p.logits == nullptr ||
      p.params == nullptr || p.tokens == nullptr ||
      (p.num_logprobs > 0 && (p.top_ids == nullptr || p.top_logprobs == nullptr))) {
    return cudaErrorInvalidValue;
  }
  const int chunks = p.num_logprobs > 0 ? 1 : chunks_for(p.rows, p.vocab, p.workspace);
  auto* global = static_cast<row_global*>(p.workspace);
  if (chunks == 1) {
    sample_kernel<<<dim3(static_cast<unsigned>(p.rows), 1), threads, 0, stream>>>(p, global);
    return cudaGetLastError();
  }
  PM_CUDA_TRY(cudaMemsetAsync(global, 0, static_cast<size_t>(p.rows) * sizeof(row_global), stream));
  sample_params args = p;
  void* kernel_args[] = {&args, &global};
  return cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(&sample_kernel),
                                     dim3(static_cast<unsigned>(p.rows), chunks), dim3(threads),
                                     kernel_args, 0, stream);
}

size_t sample_workspace_bytes(int64_t rows) {
  return rows <= max_split_sample_rows ? static_cast<size_t>(rows) * sizeof(row_global) : 0;
}

} // namespace proofmesh::kernels::cuda
