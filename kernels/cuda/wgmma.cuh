// Warpgroup-level tensor-core primitives (sm_90a): wgmma with A from registers and B from shared
// memory through a descriptor, bf16 operands and float32 accumulators, and its fences.
// Rules of the road:
// - All 128 threads of a warpgroup (4 consecutive warps, the first at a warp index divisible by
//   4) issue each instruction together; warp w of the group holds rows 16w..16w+15 of A and D.
// - Within a warp the fragments are mma.sync's m16n8k16 ones (mma.cuh): A is 4 registers of 2
//   bf16, (g, 2t..), (g+8, 2t..), (g, 2t+8..), (g+8, 2t+8..); D[j] is the C fragment of columns
//   8j..8j+7. So code written for mma.sync's layouts keeps them.
// - B's tile is 128-byte swizzled: rows of 128 bytes in atoms of 8 rows (1,024 bytes, aligned to
//   1,024), chunk c of row r stored at c ^ (r % 8). K-major (TRANS_B 0, B as n rows of k): one
//   k16 step is 32 bytes of each row, the descriptor's start moving 32 bytes a step and its
//   stride (SBO) 1,024 bytes from one 8-row group to the next. MN-major (TRANS_B 1, B as k rows
//   of n): SBO steps 8 k-rows, LBO steps 64 columns of n.
// - Issue: wgmma_fence() (registers the group reads or writes were touched since), the
//   instructions, wgmma_commit(), then wgmma_wait<0>() before D is read or written again.
// - Shared memory written by ordinary stores (or cp.async) that the group reads next needs
//   fence_proxy_async() in each writing thread before the barrier that publishes it.
// Only the sm_90a pass compiles these (PM_HAS_WGMMA); the compute_90 PTX pass takes the
// mma.sync path of the same kernel.
#pragma once

#include <cstdint>

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define PM_HAS_WGMMA 1
#else
#define PM_HAS_WGMMA 0
#endif

namespace proofmesh::kernels::cuda {

/// A descriptor of a 128-byte-swizzled shared-memory operand at `addr` (byte offsets: lbo, sbo).
__device__ __forceinline__ uint64_t wgmma_descriptor(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return static_cast<uint64_t>((addr & 0x3ffffu) >> 4) |
         static_cast<uint64_t>((lbo & 0x3ffffu) >> 4) << 16 |
         static_cast<uint64_t>((sbo & 0x3ffffu) >> 4) << 32 | uint64_t{1} << 62;
}

#if PM_HAS_WGMMA

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

/// D (64 x N) = A (64 x 16, registers) B (16 x N, shared memory) + (accumulate ? D : 0), bf16
/// in, float32 accumulated; TRANS_B 1 reads B MN-major.
template <int N>
struct wgmma_rs;

template <>
struct wgmma_rs<64> {
  template <int TRANS_B>
  __device__ __forceinline__ static void run(float (&d)[8][4], const uint32_t (&a)[4],
                                             uint64_t b, int accumulate) {
    asm volatile(
        "{\n.reg .pred acc;\nsetp.ne.b32 acc, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, "
        "%8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, "
        "%24, %25, %26, %27, %28, %29, %30, %31}, "
        "{%32, %33, %34, %35}, %36, acc, 1, 1, %38;\n}\n"
        : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
          "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
          "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
          "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
          "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
          "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
          "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
          "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate), "n"(TRANS_B));
  }
};

template <>
struct wgmma_rs<128> {
  template <int TRANS_B>
  __device__ __forceinline__ static void run(float (&d)[16][4], const uint32_t (&a)[4],
                                             uint64_t b, int accumulate) {
    asm volatile(
        "{\n.reg .pred acc;\nsetp.ne.b32 acc, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, "
        "%8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, "
        "%24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, "
        "%40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, "
        "%56, %57, %58, %59, %60, %61, %62, %63}, "
        "{%64, %65, %66, %67}, %68, acc, 1, 1, %70;\n}\n"
        : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
          "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
          "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
          "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
          "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
          "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
          "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
          "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
          "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
          "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
          "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
          "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
          "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
          "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
          "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
          "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate), "n"(TRANS_B));
  }
};

#endif // PM_HAS_WGMMA

} // namespace proofmesh::kernels::cuda
