// Launch shape: one 128-thread block per output row, each thread copying VEC elements at a time
// (16-byte accesses where the table, its stride and the output allow).
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/gather_rows.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 128;

template <typename T, int VEC>
__global__ void __launch_bounds__(block_threads) gather_rows_kernel(gather_rows_params<T> p) {
  wait_for_upstream();
  const int64_t row = blockIdx.x;
  const int64_t id = p.ids[row];
  T* out = p.out + row * p.dim;
  const bool valid = id >= 0 && id < p.num_rows;
  const T* src = p.table + (valid ? id : 0) * p.table_stride;
  for (int64_t i = static_cast<int64_t>(threadIdx.x) * VEC; i < p.dim; i += block_threads * VEC) {
    aligned_vec<T, VEC> v;
    if (valid) {
      v = *reinterpret_cast<const aligned_vec<T, VEC>*>(src + i);
    } else {
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        v.v[e] = from_float<T>(0.0f);
      }
    }
    *reinterpret_cast<aligned_vec<T, VEC>*>(out + i) = v;
  }
}

} // namespace

template <typename T>
cudaError_t gather_rows(const gather_rows_params<T>& p, cudaStream_t stream) {
  if (p.count < 0 || p.dim <= 0 || p.num_rows < 0 || p.table_stride < p.dim) {
    return cudaErrorInvalidValue;
  }
  if (p.count == 0) {
    return cudaSuccess;
  }
  if (p.ids == nullptr || p.out == nullptr || (p.table == nullptr && p.num_rows > 0) ||
      p.count > INT32_MAX) {
    return cudaErrorInvalidValue;
  }
  const unsigned grid = static_cast<unsigned>(p.count);
  if (vec_width_for<T>({p.table, p.out}, {p.dim, p.table_stride}) == max_vec<T>) {
    return launch_dependent(gather_rows_kernel<T, max_vec<T>>, grid, block_threads, 0, stream, p);
  }
  return launch_dependent(gather_rows_kernel<T, 1>, grid, block_threads, 0, stream, p);
}

template cudaError_t gather_rows<float>(const gather_rows_params<float>&, cudaStream_t);
template cudaError_t gather_rows<__nv_bfloat16>(const gather_rows_params<__nv_bfloat16>&,
                                                cudaStream_t);

} // namespace proofmesh::kernels::cuda
