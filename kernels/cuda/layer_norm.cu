// Launch shape: one warp per row, 8 rows per 256-thread block; the warp reads its row twice (mean,
// then variance) and writes it once, each lane touching the same elements every pass.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/layer_norm.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 256;
constexpr int rows_per_block = block_threads / 32;

__device__ float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) {
    v += __shfl_xor_sync(0xffffffffu, v, o);
  }
  return v;
}

template <typename T>
__global__ void __launch_bounds__(block_threads) layer_norm_kernel(layer_norm_params<T> p) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * rows_per_block + threadIdx.x / 32;
  if (r >= p.rows) {
    return;
  }
  const int lane = static_cast<int>(threadIdx.x % 32);
  const T* x = p.x + r * p.row_stride;
  T* out = p.out + r * p.row_stride;
  float sum = 0.0f;
  for (int64_t i = lane; i < p.dim; i += 32) {
    sum += to_float(x[i]);
  }
  const float mean = warp_sum(sum) / static_cast<float>(p.dim);
  float var = 0.0f;
  for (int64_t i = lane; i < p.dim; i += 32) {
    const float d = to_float(x[i]) - mean;
    var += d * d;
  }
  const float inv = rsqrtf(warp_sum(var) / static_cast<float>(p.dim) + p.eps);
  for (int64_t i = lane; i < p.dim; i += 32) {
    const float v = (to_float(x[i]) - mean) * inv;
    out[i] = from_float<T>(v * to_float(p.weight[i]) + to_float(p.bias[i]));
  }
}

} // namespace

template <typename T>
cudaError_t layer_norm(const layer_norm_params<T>& p, cudaStream_t stream) {
  if (p.rows < 0 || p.dim <= 0 || (p.rows > 1 && p.row_stride < p.dim)) {
    return cudaErrorInvalidValue;
  }
  if (p.rows == 0) {
    return cudaSuccess;
  }
  if (p.x == nullptr || p.weight == nullptr || p.bias == nullptr || p.out == nullptr ||
      p.rows > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  const auto grid = static_cast<unsigned>((p.rows + rows_per_block - 1) / rows_per_block);
  layer_norm_kernel<T><<<grid, block_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template cudaError_t layer_norm<float>(const layer_norm_params<float>&, cudaStream_t);
template cudaError_t layer_norm<__nv_bfloat16>(const layer_norm_params<__nv_bfloat16>&,
                                               cudaStream_t);

} // namespace proofmesh::kernels::cuda
