// Launch shape: a grid-stride loop of 256-thread blocks, one element per thread and iteration;
// the copy is bandwidth-bound and runs once per weight at load.
#include "kernels/cuda/convert.cuh"
#include "kernels/cuda/element.cuh"

#include <cuda_fp16.h>

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 256;

__device__ __forceinline__ float read_as_float(const void* src, element_type type, int64_t i) {
  switch (type) {
  case element_type::element_type_f32:
    return static_cast<const float*>(src)[i];
  case element_type::element_type_f16:
    return __half2float(static_cast<const __half*>(src)[i]);
  case element_type::element_type_bf16:
    return __bfloat162float(static_cast<const __nv_bfloat16*>(src)[i]);
  }
  return 0.0f;
}

template <typename T>
__global__ void __launch_bounds__(block_threads) convert_kernel(convert_params<T> p) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * block_threads;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * block_threads + threadIdx.x; i < p.n;
       i += step) {
    p.dst[i] = from_float<T>(read_as_float(p.src, p.src_type, i));
  }
}

} // namespace

template <typename T>
cudaError_t convert(const convert_params<T>& p, cudaStream_t stream) {
  if (p.n < 0) {
    return cudaErrorInvalidValue;
  }
  if (p.n == 0) {
    return cudaSuccess;
  }
  if (p.src == nullptr || p.dst == nullptr) {
    return cudaErrorInvalidValue;
  }
  const int64_t blocks = std::min<int64_t>((p.n + block_threads - 1) / block_threads, 65536);
  convert_kernel<T><<<static_cast<unsigned>(blocks), block_threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template cudaError_t convert<float>(const convert_params<float>&, cudaStream_t);
template cudaError_t convert<__nv_bfloat16>(const convert_params<__nv_bfloat16>&, cudaStream_t);

} // namespace proofmesh::kernels::cuda
