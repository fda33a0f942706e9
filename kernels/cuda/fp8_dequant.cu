// Launch shape: a grid-stride loop of 256-thread blocks, one element per thread and step.
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/fp8_dequant.cuh"

#include <cuda_fp8.h>

#include <algorithm>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 256;

template <typename T>
__global__ void __launch_bounds__(block_threads) fp8_dequant_kernel(fp8_dequant_params<T> p) {
  const int64_t block_cols_n = (p.cols + p.block_cols - 1) / p.block_cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * block_threads + threadIdx.x; i < p.count;
       i += static_cast<int64_t>(gridDim.x) * block_threads) {
    const int64_t e = p.first + i;
    const int64_t r = e / p.cols, c = e % p.cols;
    __nv_fp8_e4m3 q;
    q.__x = p.q[i];
    const float s = p.scale[(r / p.block_rows) * block_cols_n + c / p.block_cols];
    p.out[i] = from_float<T>(__fmul_rn(static_cast<float>(q), s));
  }
}

} // namespace

template <typename T>
cudaError_t fp8_dequant(const fp8_dequant_params<T>& p, cudaStream_t stream) {
  if (p.first < 0 || p.count < 0 || p.cols <= 0 || p.block_rows <= 0 || p.block_cols <= 0) {
    return cudaErrorInvalidValue;
  }
  if (p.count == 0) {
    return cudaSuccess;
  }
  if (p.q == nullptr || p.scale == nullptr || p.out == nullptr) {
    return cudaErrorInvalidValue;
  }
  const int64_t blocks = std::min<int64_t>((p.count + block_threads - 1) / block_threads, 65536);
  fp8_dequant_kernel<T><<<static_cast<unsigned>(blocks), block_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template cudaError_t fp8_dequant<float>(const fp8_dequant_params<float>&, cudaStream_t);
template cudaError_t fp8_dequant<__nv_bfloat16>(const fp8_dequant_params<__nv_bfloat16>&,
                                                cudaStream_t);

} // namespace proofmesh::kernels::cuda
