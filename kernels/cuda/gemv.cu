// Launch shape: 256 threads (8 warps) per block, one output feature per warp, grid n / 8. A lane
// holds M float accumulators; the k loop is unrolled 4 deep so each lane has four 16-byte weight
// loads in flight (about 128 KB per multiprocessor at full occupancy, far above the bandwidth-delay
// product). Weights are read with the non-coherent, no-L1-allocate path: each is used once.
#include "kernels/cuda/gemv.cuh"

#include "kernels/cuda/element.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int warps_per_block = 8;

__device__ __forceinline__ uint4 load_streaming(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

__device__ __forceinline__ void unpack(uint4 v, float (&f)[8]) {
  const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f[2 * i] = __uint_as_float(words[i] << 16);
    f[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
  }
}

template <int M, typename Out>
__global__ void __launch_bounds__(warps_per_block * 32) gemv_kernel(gemv_params p) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32;
  if (row >= p.n) {
    return;
  }
  const int64_t vecs = p.k / 8;
  const uint4* w = reinterpret_cast<const uint4*>(p.w + row * p.k);
  const uint4* x = reinterpret_cast<const uint4*>(p.x);
  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) {
    acc[m] = 0.0f;
  }
#pragma unroll 4
  for (int64_t v = lane; v < vecs; v += 32) {
    float wf[8];
    unpack(load_streaming(w + v), wf);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      float xf[8];
      unpack(__ldg(x + m * vecs + v), xf);
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        acc[m] = fmaf(wf[e], xf[e], acc[m]);
      }
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m) {
    for (int o = 16; o > 0; o /= 2) {
      acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], o);
    }
  }
  if (lane == 0) {
    Out* y = static_cast<Out*>(p.y);
    const float b = p.bias == nullptr ? 0.0f : to_float(static_cast<const Out*>(p.bias)[row]);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      y[m * p.n + row] = from_float<Out>(acc[m] + b);
    }
  }
}

template <typename Out>
cudaError_t launch(const gemv_params& p, cudaStream_t stream) {
  const auto grid = static_cast<unsigned>((p.n + warps_per_block - 1) / warps_per_block);
  const int threads = warps_per_block * 32;
  switch (p.m) {
    case 1: gemv_kernel<1, Out><<<grid, threads, 0, stream>>>(p); break;
    case 2: gemv_kernel<2, Out><<<grid, threads, 0, stream>>>(p); break;
    case 3: gemv_kernel<3, Out><<<grid, threads, 0, stream>>>(p); break;
    case 4: gemv_kernel<4, Out><<<grid, threads, 0, stream>>>(p); break;
    case 5: gemv_kernel<5, Out><<<grid, threads, 0, stream>>>(p); break;
    case 6: gemv_kernel<6, Out><<<grid, threads, 0, stream>>>(p); break;
    case 7: gemv_kernel<7, Out><<<grid, threads, 0, stream>>>(p); break;
    default: gemv_kernel<8, Out><<<grid, threads, 0, stream>>>(p); break;
  }
  return cudaGetLastError();
}

} // namespace

bool gemv_supports(const gemv_params& p) {
  return p.m >= 1 && p.m <= max_gemv_rows && p.n >= 1 && p.n <= INT32_MAX * 8LL &&
         p.k >= 8 && p.k % 8 == 0 && p.x != nullptr && p.w != nullptr && p.y != nullptr &&
         is_aligned(p.x, 16) && is_aligned(p.w, 16) &&
         (p.out_type == CUDA_R_16BF || p.out_type == CUDA_R_32F);
}

cudaError_t gemv(const gemv_params& p, cudaStream_t stream) {
  if (!gemv_supports(p)) {
    return cudaErrorInvalidValue;
  }
  return p.out_type == CUDA_R_32F ? launch<float>(p, stream) : launch<__nv_bfloat16>(p, stream);
}

} // namespace proofmesh::kernels::cuda
