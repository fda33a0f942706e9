// Element type conversion on the device: checkpoint tensors arrive as raw bytes in their stored
// dtype and become the compute type in place on the GPU, so no host core widens or narrows 16 GB
// of weights (actors/engine/cuda/weight_upload).
// Rules of the road: conversions round as torch's .to() does: to nearest even into bf16, exactly
// from f16 and bf16 into float32; NaN stays NaN.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

enum class element_type : uint8_t { element_type_f32, element_type_f16, element_type_bf16 };

template <typename T>
struct convert_params {
  const void* src;        // [n] elements of src_type, aligned to its size
  element_type src_type;
  T* dst;                 // [n]; must not overlap src
  int64_t n;
};

/// cudaErrorInvalidValue on a negative n or null pointers; n == 0 is a no-op.
template <typename T>
cudaError_t convert(const convert_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
