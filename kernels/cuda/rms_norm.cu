#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/rms_norm.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 256;

__global__ void rms_norm_kernel(rms_norm_params p) {
  __nv_bfloat16* x = p.x + blockIdx.x * p.row_stride;
  __nv_bfloat16* out = p.out + blockIdx.x * p.row_stride;
  const __nv_bfloat16* res = p.residual ? p.residual + blockIdx.x * p.row_stride : nullptr;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < p.dim; i += blockDim.x) {
    float v = __bfloat162float(x[i]);
    if (res) {
      v += __bfloat162float(res[i]);
      x[i] = __float2bfloat16(v);
      v = __bfloat162float(x[i]); // the stream is stored in bf16: normalise what was stored
    }
    sum += v * v;
  }
  __shared__ float warp_sums[block_threads / 32];
  for (int offset = 16; offset > 0; offset /= 2) {
    sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  }
  if (threadIdx.x % 32 == 0) {
    warp_sums[threadIdx.x / 32] = sum;
  }
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < block_threads / 32; ++w) {
    total += warp_sums[w];
  }
  float inv = rsqrtf(total / static_cast<float>(p.dim) + p.eps);
  for (int64_t i = threadIdx.x; i < p.dim; i += blockDim.x) {
    float v = __bfloat162float(x[i]);
    out[i] = __float2bfloat16(__bfloat162float(p.weight[i]) * (v * inv));
  }
}

} // namespace

cudaError_t rms_norm(const rms_norm_params& p, cudaStream_t stream) {
  if (p.rows == 0) {
    return cudaSuccess;
  }
  if (p.rows < 0 || p.dim <= 0 || p.rows > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  rms_norm_kernel<<<static_cast<unsigned>(p.rows), block_threads, 0, stream>>>(p);
  PM_CUDA_TRY(cudaGetLastError());
  return cudaSuccess;
}

} // namespace proofmesh::kernels::cuda
