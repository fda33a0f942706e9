// Launch shape: one 256-thread block per token, each thread handling VEC consecutive columns at a
// time (16-byte accesses when inter and both pointers allow).
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/silu_mul.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 256;

template <typename T, int VEC>
__global__ void __launch_bounds__(block_threads) silu_mul_kernel(silu_mul_params<T> p) {
  wait_for_upstream();
  const int64_t t = blockIdx.x;
  const T* gate = p.gate_up + t * 2 * p.inter;
  const T* up = gate + p.inter;
  T* out = p.out + t * p.inter;
  for (int64_t i = static_cast<int64_t>(threadIdx.x) * VEC; i < p.inter; i += block_threads * VEC) {
    float g[VEC], u[VEC], o[VEC];
    load_float(gate + i, g);
    load_float(up + i, u);
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      o[e] = silu_times(g[e], u[e]);
    }
    store_float(out + i, o);
  }
}

} // namespace

template <typename T>
cudaError_t silu_mul(const silu_mul_params<T>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.inter <= 0) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  if (p.gate_up == nullptr || p.out == nullptr || p.tokens > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  const unsigned grid = static_cast<unsigned>(p.tokens);
  if (vec_width_for<T>({p.gate_up, p.out}, {p.inter}) == max_vec<T>) {
    return launch_dependent(silu_mul_kernel<T, max_vec<T>>, grid, block_threads, 0, stream, p);
  }
  return launch_dependent(silu_mul_kernel<T, 1>, grid, block_threads, 0, stream, p);
}

template cudaError_t silu_mul<float>(const silu_mul_params<float>&, cudaStream_t);
template cudaError_t silu_mul<__nv_bfloat16>(const silu_mul_params<__nv_bfloat16>&, cudaStream_t);

} // namespace proofmesh::kernels::cuda
