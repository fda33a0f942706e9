// Element types of the CUDA kernels: float and __nv_bfloat16 stored, float32 arithmetic always.
// Rules of the road: kernels load T, convert with to_float, compute in float and round once with
// from_float<T> on store. Vector loads (aligned_vec) are used only where the launcher has checked
// that every address the kernel forms is a multiple of the vector size; host code picks the width
// with vec_width_for and passes it as a template argument, so kernels never test alignment.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace proofmesh::kernels::cuda {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

/// The gated MLP's activation, silu(gate) · up: one expression for every kernel that computes
/// it (the silu_mul kernel, gemv's gated form), so they agree bit for bit.
__device__ __forceinline__ float silu_times(float gate, float up) {
  return (gate / (1.0f + expf(-gate))) * up;
}

/// N elements of T loaded or stored as one access of N * sizeof(T) bytes.
template <typename T, int N>
struct alignas(sizeof(T) * N) aligned_vec {
  T v[N];
};

template <typename T, int N>
__device__ __forceinline__ void load_float(const T* src, float (&dst)[N]) {
  aligned_vec<T, N> raw = *reinterpret_cast<const aligned_vec<T, N>*>(src);
#pragma unroll
  for (int e = 0; e < N; ++e) {
    dst[e] = to_float(raw.v[e]);
  }
}

template <typename T, int N>
__device__ __forceinline__ void store_float(T* dst, const float (&src)[N]) {
  aligned_vec<T, N> raw;
#pragma unroll
  for (int e = 0; e < N; ++e) {
    raw.v[e] = from_float<T>(src[e]);
  }
  *reinterpret_cast<aligned_vec<T, N>*>(dst) = raw;
}

/// Elements in one 16-byte access: 4 floats or 8 bf16.
template <typename T>
constexpr int max_vec = static_cast<int>(16 / sizeof(T));

inline bool is_aligned(const void* p, size_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

/// The widest vector (max_vec<T>, else 1) whose accesses stay aligned, given that every address
/// is a base pointer plus a multiple of each of `strides` elements.
template <typename T>
int vec_width_for(std::initializer_list<const void*> pointers,
                  std::initializer_list<int64_t> strides) {
  constexpr int w = max_vec<T>;
  for (const void* p : pointers) {
    if (p != nullptr && !is_aligned(p, sizeof(T) * w)) {
      return 1;
    }
  }
  for (int64_t s : strides) {
    if (s % w != 0) {
      return 1;
    }
  }
  return w;
}

} // namespace proofmesh::kernels::cuda
