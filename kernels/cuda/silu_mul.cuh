// The gated MLP's activation on the fused gate_up projection: out = silu(gate) * up, elementwise,
// in float32 with one rounding to T at the store; silu(g) = g / (1 + expf(-g)) with the precise
// expf, the same function as kernels/cpu/silu_mul.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct silu_mul_params {
  const T* gate_up;  // [tokens, 2*inter]: gate in columns [0, inter), up in [inter, 2*inter)
  T* out;            // [tokens, inter]; must not overlap gate_up
  int64_t tokens;
  int64_t inter;
};

/// cudaErrorInvalidValue on negative sizes, inter <= 0 or null pointers; tokens == 0 is a no-op.
template <typename T>
cudaError_t silu_mul(const silu_mul_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
