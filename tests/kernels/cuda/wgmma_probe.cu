#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/wgmma.cuh"
#include "tests/kernels/cuda/wgmma_probe.hpp"

namespace proofmesh::kernels::test {

namespace {

namespace kc = proofmesh::kernels::cuda;

constexpr int rows = 64;

// Every loop unrolled: the accumulators must stay in registers from the first wgmma to the wait.
template <int N, int K, int TRANS_B>
__device__ void product(const wgmma_probe_params& p, uint32_t b_s) {
#if PM_HAS_WGMMA
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int g = lane / 4, t4 = lane % 4, r0 = 16 * warp + g;
  auto a_pair = [&](int r, int c) {
    return kc::pack_bf16(__bfloat162float(p.a[r * K + c]), __bfloat162float(p.a[r * K + c + 1]));
  };
  uint32_t a[K / 16][4];
#pragma unroll
  for (int ks = 0; ks < K / 16; ++ks) {
    a[ks][0] = a_pair(r0, 16 * ks + 2 * t4);
    a[ks][1] = a_pair(r0 + 8, 16 * ks + 2 * t4);
    a[ks][2] = a_pair(r0, 16 * ks + 2 * t4 + 8);
    a[ks][3] = a_pair(r0 + 8, 16 * ks + 2 * t4 + 8);
  }
  float d[N / 8][4];
#pragma unroll
  for (int j = 0; j < N / 8; ++j) {
    d[j][0] = d[j][1] = d[j][2] = d[j][3] = 0.0f;
  }
  kc::wgmma_fence();
#pragma unroll
  for (int ks = 0; ks < K / 16; ++ks) {
    // As flash_attention.cu: K-major steps move 32 bytes along a slab's rows (the next slab after
    // 4 steps); MN-major steps move 16 key rows (two atoms).
    const int c = 2 * ks;
    const uint32_t start =
        TRANS_B ? b_s + ks * 16 * 128 : b_s + (c / 8) * rows * 128 + (c % 8) * 16;
    kc::wgmma_rs<N>::template run<TRANS_B>(d, a[ks], kc::wgmma_descriptor(start, p.lbo, 1024), 1);
  }
  kc::wgmma_commit();
  kc::wgmma_wait<0>();
#pragma unroll
  for (int j = 0; j < N / 8; ++j) {
    const int col = 8 * j + 2 * t4;
    p.d[r0 * N + col] = d[j][0];
    p.d[r0 * N + col + 1] = d[j][1];
    p.d[(r0 + 8) * N + col] = d[j][2];
    p.d[(r0 + 8) * N + col + 1] = d[j][3];
  }
#else
  (void)p;
  (void)b_s;
  __trap();
#endif
}

__global__ void __launch_bounds__(128) probe_kernel(wgmma_probe_params p) {
  extern __shared__ __align__(1024) unsigned char smem[];
  const uint32_t b_s = kc::shared_address(smem);
  if ((b_s & 1023u) != 0) {
    __trap(); // the swizzle atoms the descriptors assume start 1,024-aligned
  }
  // B into the stage layout, 16 bytes a thread at a time.
  const int chunks = p.width / 8;
  for (int i = static_cast<int>(threadIdx.x); i < rows * chunks; i += 128) {
    const int r = i / chunks, c = i % chunks;
    const uint32_t at = (c / 8) * rows * 128 + r * 128 + ((c % 8) ^ (r % 8)) * 16;
    *reinterpret_cast<uint4*>(smem + at) = *reinterpret_cast<const uint4*>(p.b + r * p.width + c * 8);
  }
#if PM_HAS_WGMMA
  kc::fence_proxy_async();
#endif
  __syncthreads();
  if (p.trans_b) { // d = a · b: n = width, k = the 64 keys
    if (p.width == 64) {
      product<64, rows, 1>(p, b_s);
    } else {
      product<128, rows, 1>(p, b_s);
    }
  } else if (p.width == 64) { // d = a · bᵀ: n = the 64 keys, k = width
    product<rows, 64, 0>(p, b_s);
  } else {
    product<rows, 128, 0>(p, b_s);
  }
}

} // namespace

cudaError_t wgmma_probe(const wgmma_probe_params& p) {
  int device = 0, major = 0;
  if (cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) {
    return e;
  }
  if (cudaError_t e = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
      e != cudaSuccess) {
    return e;
  }
  if (major != 9 || (p.width != 64 && p.width != 128)) {
    return major != 9 ? cudaErrorNotSupported : cudaErrorInvalidValue;
  }
  const int smem = rows * p.width * 2;
  probe_kernel<<<1, 128, smem>>>(p);
  return cudaGetLastError();
}

} // namespace proofmesh::kernels::test
