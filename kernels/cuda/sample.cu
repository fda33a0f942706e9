#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/sample.cuh"

#include <cfloat>
#include <cmath>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int threads = 1024;
constexpr int hist_copies = 16;

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

// Best (score, lowest id) over the block; returns the id.
__device__ int block_argmax(float score, int id, row_shared& s) {
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
  return best_id;
}

// The largest key t such that the weight of {keys >= max(t, floor_key)} reaches `target`, by an
// exact 8-bit radix walk from the top digit. weight(i) must return the same value every call.
template <typename Weight>
__device__ uint32_t radix_select(const float* row, int64_t vocab, uint32_t floor_key,
                                 unsigned long long target, Weight weight, row_shared& s) {
  if (threadIdx.x == 0) {
    s.prefix = 0;
    s.remaining = target;
    s.take_all = false;
  }
  unsigned long long* my_hist = s.sub_hist[(threadIdx.x / 32) % hist_copies];
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < hist_copies * 256; b += threads) s.sub_hist[b / 256][b % 256] = 0;
    __syncthreads();
    const uint32_t prefix = s.prefix;
    const uint32_t high_mask = shift == 24 ? 0u : (0xffffffffu << (shift + 8));
    for (int64_t i = threadIdx.x; i < vocab; i += threads) {
      uint32_t k = key_of(row[i]);
      if (k >= floor_key && (k & high_mask) == prefix) {
        atomicAdd(&my_hist[(k >> shift) & 0xffu], weight(i));
      }
    }
    __syncthreads();
    for (int b = threadIdx.x; b < 256; b += threads) {
      unsigned long long total = 0;
      for (int c = 0; c < hist_copies; ++c) total += s.sub_hist[c][b];
      s.hist[b] = total;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      // Walk the bins from the top. If the target is out of reach (everything together weighs
      // less), keep taking the lowest non-empty bin: the threshold becomes the smallest key.
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

__global__ void __launch_bounds__(threads) sample_kernel(sample_params p) {
  __shared__ row_shared s;
  const int64_t r = blockIdx.x;
  const float* row = p.logits + r * p.vocab;
  const sample_row_params rp = p.params[r];

  float local_max = -INFINITY;
  for (int64_t i = threadIdx.x; i < p.vocab; i += threads) local_max = fmaxf(local_max, row[i]);
  const float max_logit = block_max(local_max, s);

  // Top-k logprobs: keys above the K-th largest, then ties at it in id order, sorted.
  if (p.num_logprobs > 0) {
    float local_sum = 0;
    for (int64_t i = threadIdx.x; i < p.vocab; i += threads) local_sum += expf(row[i] - max_logit);
    const float lse = max_logit + logf(block_sum(local_sum, s));
    const int k = static_cast<int>(p.num_logprobs < p.vocab ? p.num_logprobs : p.vocab);
    const uint32_t kth = radix_select(row, p.vocab, 0u, static_cast<unsigned long long>(k),
                                      [](int64_t) { return 1ull; }, s);
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
    floor_key = radix_select(row, p.vocab, 0u, static_cast<unsigned long long>(rp.top_k),
                             [](int64_t) { return 1ull; }, s);
  }
  auto fixed_weight = [&](int64_t i) {
    // exp((l - max) / T) in [0, 1], as 2^-32 fixed point: integer sums are order-independent.
    return static_cast<unsigned long long>(expf((row[i] - max_logit) * inv_t) * 4294967296.0f);
  };
  if (!greedy && rp.top_p < 1.0f) {
    unsigned long long local = 0;
    for (int64_t i = threadIdx.x; i < p.vocab; i += threads) {
      if (key_of(row[i]) >= floor_key) local += fixed_weight(i);
    }
    const unsigned long long total = block_sum_u64(local, s);
    const auto target = static_cast<unsigned long long>(
        ceil(static_cast<double>(rp.top_p) * static_cast<double>(total)));
    floor_key = radix_select(row, p.vocab, floor_key, target < 1 ? 1 : target, fixed_weight, s);
  }
  float best = -INFINITY;
  int best_id = INT32_MAX;
  const uint64_t base = mix64(rp.seed ^ mix64(rp.stream ^ mix64(rp.step)));
  for (int64_t i = threadIdx.x; i < p.vocab; i += threads) {
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
  const int token = block_argmax(best, best_id, s);
  if (threadIdx.x == 0) p.tokens[r] = token;
}

} // namespace

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
  sample_kernel<<<static_cast<unsigned>(p.rows), threads, 0, stream>>>(p);
  PM_CUDA_TRY(cudaGetLastError());
  return cudaSuccess;
}

} // namespace proofmesh::kernels::cuda
