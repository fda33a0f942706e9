// Warp-level tensor-core and asynchronous-copy primitives (sm_80 and later, so Hopper too):
// cp.async of 16 and 4 bytes into shared memory, ldmatrix of four 8x8 bf16 matrices, and the bf16
// and f16 mma.sync of shape m16n8k16 with float32 accumulators (f16: an FP8 cache's codes, which
// widen to it exactly).
// Rules of the road: fragment layouts are PTX's. For a thread, g = lane / 4 and t = lane % 4.
//   A (16x16, row-major), 4 registers of 2 bf16: (g, 2t..2t+1), (g+8, 2t..), (g, 2t+8..),
//     (g+8, 2t+8..).
//   B (16x8, k by n), 2 registers: (k = 2t..2t+1, n = g), (k = 2t+8..2t+9, n = g).
//   C (16x8 float), 4 values: (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1).
// ldmatrix_x4: thread i names the row of matrix i / 8 at row i % 8; register j of every thread
// receives matrix j's elements (g, 2t..2t+1), or (2t..2t+1, g) with the transposing form.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/// 16 bytes from global to shared memory, asynchronously; with `fill` false the 16 bytes are
/// zeros and `src` is not read.
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, bool fill) {
  const int bytes = fill ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(bytes));
}

/// 4 bytes likewise (through L1: a scattered scale or index, not a row).
__device__ __forceinline__ void cp_async_4(uint32_t dst, const void* src, bool fill) {
  const int bytes = fill ? 4 : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n"); }

/// Waits until at most `N` of this thread's committed copy groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

/// c += a * b for one 16x8x16 tile.
__device__ __forceinline__ void mma_bf16_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                               uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// c += a * b for one 16x8x16 tile of f16 with float32 accumulators.
__device__ __forceinline__ void mma_f16_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                              uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// The byte offset of 16-byte chunk `chunk` of row `row` in a tile of CHUNKS chunks a row,
/// swizzled (chunk c of row r sits at c ^ (r % 8); CHUNKS a multiple of 8) so that the eight rows
/// one ldmatrix reads at a column fall in distinct bank groups.
template <int CHUNKS>
__device__ __forceinline__ uint32_t swizzled(int row, int chunk) {
  static_assert(CHUNKS % 8 == 0);
  return static_cast<uint32_t>((row * CHUNKS + (chunk ^ (row & 7))) * 16);
}

/// 2^x by the SFU's approximation (2 ulp); -inf gives +0.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

/// The max and the sum over the four threads of a quad (the threads that share a C row).
__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

/// Two floats rounded to bf16 and packed, the first in the low half (the lower column).
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

/// Two floats rounded to f16 and packed, the first in the low half.
__device__ __forceinline__ uint32_t pack_f16(float lo, float hi) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

} // namespace proofmesh::kernels::cuda
