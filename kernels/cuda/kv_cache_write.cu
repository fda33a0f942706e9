// Launch shape: one 128-thread block per token, copying its K row then its V row in VEC-element
// accesses (16 bytes when the row width, src_stride and all four pointers allow). The FP8 form
// gives each (token, kv head) a warp: its lanes stride the head's values, a shuffle reduction
// finds the largest magnitude, and every lane writes its codes.
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/kv_cache_write.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 128;

template <typename T, int VEC>
__global__ void __launch_bounds__(block_threads) kv_cache_write_kernel(kv_cache_write_params<T> p) {
  wait_for_upstream();
  const int64_t t = blockIdx.x;
  const int64_t slot = p.slots[t];
  if (slot < 0 || slot >= p.num_blocks * p.block_size) {
    return;
  }
  const int64_t width = p.kv_heads * p.head_dim;
  const T* k = p.k + t * p.src_stride;
  T* kc = p.k_cache + slot * width;
  for (int64_t i = static_cast<int64_t>(threadIdx.x) * VEC; i < width; i += block_threads * VEC) {
    *reinterpret_cast<aligned_vec<T, VEC>*>(kc + i) =
        *reinterpret_cast<const aligned_vec<T, VEC>*>(k + i);
  }
  if (p.v == nullptr) {
    return; // keys only: MLA's latent rows, the DSA indexer's keys
  }
  const T* v = p.v + t * p.src_stride;
  T* vc = p.v_cache + slot * width;
  for (int64_t i = static_cast<int64_t>(threadIdx.x) * VEC; i < width; i += block_threads * VEC) {
    *reinterpret_cast<aligned_vec<T, VEC>*>(vc + i) =
        *reinterpret_cast<const aligned_vec<T, VEC>*>(v + i);
  }
}

constexpr unsigned full_mask = 0xffffffffu;

// One head of one token: its codes and scale.
__device__ __forceinline__ void quantise_head(const __nv_bfloat16* x, __nv_fp8_e4m3* codes,
                                              float* scale, int head_dim, int lane) {
  float amax = 0.0f;
  for (int d = lane; d < head_dim; d += 32) {
    amax = fmaxf(amax, fabsf(__bfloat162float(x[d])));
  }
  for (int o = 16; o > 0; o /= 2) {
    amax = fmaxf(amax, __shfl_xor_sync(full_mask, amax, o));
  }
  const float inv = amax > 0.0f ? 448.0f / amax : 0.0f;
  for (int d = lane; d < head_dim; d += 32) {
    codes[d] = __nv_fp8_e4m3(__bfloat162float(x[d]) * inv); // rounds to nearest, saturates
  }
  if (lane == 0) {
    *scale = amax / 448.0f;
  }
}

__global__ void __launch_bounds__(block_threads)
    kv_cache_write_fp8_kernel(kv_cache_write_fp8_params p) {
  wait_for_upstream();
  const int64_t pair = static_cast<int64_t>(blockIdx.x) * (block_threads / 32) + threadIdx.x / 32;
  if (pair >= p.tokens * p.kv_heads) {
    return;
  }
  const int64_t t = pair / p.kv_heads, h = pair % p.kv_heads;
  const int64_t slot = p.slots[t];
  if (slot < 0 || slot >= p.num_blocks * p.block_size) {
    return;
  }
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int hd = static_cast<int>(p.head_dim);
  const int64_t src = t * p.src_stride + h * p.head_dim;
  const int64_t dst = (slot * p.kv_heads + h) * p.head_dim;
  quantise_head(p.k + src, p.k_cache + dst, p.k_scales + slot * p.kv_heads + h, hd, lane);
  quantise_head(p.v + src, p.v_cache + dst, p.v_scales + slot * p.kv_heads + h, hd, lane);
}

} // namespace

cudaError_t kv_cache_write_fp8(const kv_cache_write_fp8_params& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.kv_heads <= 0 || p.head_dim <= 0 || p.block_size <= 0 ||
      p.num_blocks < 0) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  if (p.k == nullptr || p.v == nullptr || p.k_cache == nullptr || p.v_cache == nullptr ||
      p.k_scales == nullptr || p.v_scales == nullptr || p.slots == nullptr ||
      p.tokens > INT32_MAX || p.head_dim > INT32_MAX ||
      (p.tokens > 1 && p.src_stride < p.kv_heads * p.head_dim)) {
    return cudaErrorInvalidValue;
  }
  constexpr int64_t per_block = block_threads / 32;
  const int64_t blocks = (p.tokens * p.kv_heads + per_block - 1) / per_block;
  if (blocks > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  return launch_dependent(kv_cache_write_fp8_kernel, static_cast<unsigned>(blocks), block_threads, 0,
                          stream, p);
}

template <typename T>
cudaError_t kv_cache_write(const kv_cache_write_params<T>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.kv_heads <= 0 || p.head_dim <= 0 || p.block_size <= 0 ||
      p.num_blocks < 0) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  const int64_t width = p.kv_heads * p.head_dim;
  if (p.k == nullptr || (p.v == nullptr) != (p.v_cache == nullptr) || p.k_cache == nullptr ||
      p.slots == nullptr || p.tokens > INT32_MAX || (p.tokens > 1 && p.src_stride < width)) {
    return cudaErrorInvalidValue;
  }
  const unsigned grid = static_cast<unsigned>(p.tokens);
  const void* v = p.v != nullptr ? static_cast<const void*>(p.v) : p.k;
  const void* v_cache = p.v_cache != nullptr ? static_cast<const void*>(p.v_cache) : p.k_cache;
  if (vec_width_for<T>({p.k, v, p.k_cache, v_cache}, {width, p.src_stride}) == max_vec<T>) {
    return launch_dependent(kv_cache_write_kernel<T, max_vec<T>>, grid, block_threads, 0, stream, p);
  }
  return launch_dependent(kv_cache_write_kernel<T, 1>, grid, block_threads, 0, stream, p);
}

template cudaError_t kv_cache_write<float>(const kv_cache_write_params<float>&, cudaStream_t);
template cudaError_t kv_cache_write<__nv_bfloat16>(const kv_cache_write_params<__nv_bfloat16>&,
                                                   cudaStream_t);

} // namespace proofmesh::kernels::cuda
