// Launch shapes: sub-rows up to warp_row_max_dim long get one warp each (8 rows per 256-thread
// block), longer ones get a whole 256-thread block; each thread walks its row in vectors of VEC
// elements. Two passes over the row: sum of squares (storing x + residual on the way), then the
// scaled output; the second pass touches exactly the elements the same thread touched in the
// first, so the aliasing of out and x needs no extra barrier.
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/rms_norm.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 256;
constexpr int64_t warp_row_max_dim = 1024;

template <typename T, int VEC, int ROW_THREADS>
__global__ void __launch_bounds__(block_threads) rms_norm_kernel(rms_norm_params<T> p) {
  wait_for_upstream();
  constexpr int rows_per_block = block_threads / ROW_THREADS;
  const int lane = static_cast<int>(threadIdx.x) % ROW_THREADS;
  const int64_t r =
      static_cast<int64_t>(blockIdx.x) * rows_per_block + static_cast<int64_t>(threadIdx.x) / ROW_THREADS;
  // Only the warp-per-row shape can have idle rows at the grid's end, and it has no
  // __syncthreads, so leaving early is safe.
  if (r >= p.rows * p.heads_per_row) {
    return;
  }
  const int64_t offset = (r / p.heads_per_row) * p.row_stride + (r % p.heads_per_row) * p.dim;
  T* x = p.x + offset;
  T* out = p.out + offset;
  const T* res = p.residual != nullptr ? p.residual + offset : nullptr;

  float sum = 0.0f;
  for (int64_t i = static_cast<int64_t>(lane) * VEC; i < p.dim; i += ROW_THREADS * VEC) {
    float v[VEC];
    load_float(x + i, v);
    if (res != nullptr) {
      float rv[VEC];
      load_float(res + i, rv);
      aligned_vec<T, VEC> stored;
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        stored.v[e] = from_float<T>(v[e] + rv[e]);
        v[e] = to_float(stored.v[e]); // normalise what the stream stores
      }
      *reinterpret_cast<aligned_vec<T, VEC>*>(x + i) = stored;
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      sum += v[e] * v[e];
    }
  }
  for (int offset_lane = 16; offset_lane > 0; offset_lane /= 2) {
    sum += __shfl_xor_sync(0xffffffffu, sum, offset_lane);
  }
  if constexpr (ROW_THREADS > 32) {
    static_assert(ROW_THREADS == block_threads, "a multi-warp row spans the whole block");
    __shared__ float warp_sums[block_threads / 32];
    if (lane % 32 == 0) {
      warp_sums[lane / 32] = sum;
    }
    __syncthreads();
    sum = 0.0f;
    for (int w = 0; w < block_threads / 32; ++w) {
      sum += warp_sums[w];
    }
  }
  // 1/sqrtf rather than rsqrtf: both are correctly rounded here, as in the CPU reference.
  const float inv = 1.0f / sqrtf(sum / static_cast<float>(p.dim) + p.eps);
  for (int64_t i = static_cast<int64_t>(lane) * VEC; i < p.dim; i += ROW_THREADS * VEC) {
    float v[VEC], w[VEC], o[VEC];
    load_float(x + i, v);
    load_float(p.weight + i, w);
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      o[e] = w[e] * (v[e] * inv);
    }
    store_float(out + i, o);
  }
}

template <typename T, int VEC>
cudaError_t launch(const rms_norm_params<T>& p, int64_t sub_rows, cudaStream_t stream) {
  if (p.dim <= warp_row_max_dim) {
    constexpr int rows_per_block = block_threads / 32;
    int64_t blocks = (sub_rows + rows_per_block - 1) / rows_per_block;
    if (blocks > INT32_MAX) {
      return cudaErrorInvalidValue;
    }
    return launch_dependent(rms_norm_kernel<T, VEC, 32>, static_cast<unsigned>(blocks),
                            block_threads, 0, stream, p);
  }
  if (sub_rows > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  return launch_dependent(rms_norm_kernel<T, VEC, block_threads>, static_cast<unsigned>(sub_rows),
                          block_threads, 0, stream, p);
}

} // namespace

template <typename T>
cudaError_t rms_norm(const rms_norm_params<T>& p, cudaStream_t stream) {
  if (p.rows < 0 || p.dim <= 0 || p.heads_per_row <= 0) {
    return cudaErrorInvalidValue;
  }
  if (p.rows == 0) {
    return cudaSuccess;
  }
  if (p.x == nullptr || p.weight == nullptr || p.out == nullptr) {
    return cudaErrorInvalidValue;
  }
  if (p.heads_per_row > INT32_MAX / p.dim ||
      (p.rows > 1 && p.row_stride < p.heads_per_row * p.dim) ||
      p.rows > INT64_MAX / 2 / p.heads_per_row) {
    return cudaErrorInvalidValue;
  }
  const int64_t sub_rows = p.rows * p.heads_per_row;
  int vec = vec_width_for<T>({p.x, p.residual, p.weight, p.out}, {p.dim, p.row_stride});
  if (vec == max_vec<T>) {
    return launch<T, max_vec<T>>(p, sub_rows, stream);
  }
  return launch<T, 1>(p, sub_rows, stream);
}

template cudaError_t rms_norm<float>(const rms_norm_params<float>&, cudaStream_t);
template cudaError_t rms_norm<__nv_bfloat16>(const rms_norm_params<__nv_bfloat16>&, cudaStream_t);

} // namespace proofmesh::kernels::cuda
