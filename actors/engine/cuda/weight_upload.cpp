#include "actors/engine/cuda/weight_upload.hpp"

#include "actors/common/check.hpp"
#include "actors/common/error.hpp"
#include "kernels/cuda/convert.cuh"
#include "kernels/cuda/fp8_dequant.cuh"

#include <cuda_bf16.h>

#include <cstring>
#include <type_traits>

namespace proofmesh::engine {

namespace kc = kernels::cuda;

namespace {

kc::element_type element_of(dtype type) {
  switch (type) {
  case dtype::dtype_f32:
    return kc::element_type::element_type_f32;
  case dtype::dtype_f16:
    return kc::element_type::element_type_f16;
  case dtype::dtype_bf16:
    return kc::element_type::element_type_bf16;
  case dtype::dtype_f8_e4m3:
    break; // refused by the caller, naming the tensor
  }
  PM_ASSERT(false, "dtype out of range");
  return kc::element_type::element_type_f32;
}

template <typename T>
constexpr dtype dtype_of() {
  return std::is_same_v<T, float> ? dtype::dtype_f32 : dtype::dtype_bf16;
}

} // namespace

weight_upload::weight_upload(cudaStream_t stream) : stream_(stream) {
  for (int b = 0; b < 2; ++b) {
    host_[b].reserve(chunk_bytes);
    PM_CUDA_CHECK(cudaEventCreateWithFlags(&drained_[b], cudaEventDisableTiming));
    PM_CUDA_CHECK(cudaEventRecord(drained_[b], stream_));
  }
}

weight_upload::~weight_upload() {
  cudaStreamSynchronize(stream_);
  for (cudaEvent_t e : drained_) {
    cudaEventDestroy(e);
  }
}

std::byte* weight_upload::stage(int b, const std::byte* at, size_t n) {
  PM_CUDA_CHECK(cudaEventSynchronize(drained_[b]));
  std::memcpy(host_[b].get(), at, n);
  return host_[b].get();
}

template <typename T>
void weight_upload::copy(const tensor_view& src, T* dst) {
  PM_ASSERT(src.type != dtype::dtype_f8_e4m3, "e4m3 tensors go through copy_fp8");
  const size_t element = dtype_size(src.type);
  const bool as_is = src.type == dtype_of<T>();
  // Chunks hold whole elements of both the source and the destination type.
  const size_t step = chunk_bytes / element * element;
  for (size_t off = 0; off < src.num_bytes; off += step) {
    const size_t n = std::min(step, src.num_bytes - off);
    const int b = next_;
    next_ ^= 1;
    std::byte* staged = stage(b, src.data + off, n);
    const size_t first = off / element;
    if (as_is) {
      PM_CUDA_CHECK(cudaMemcpyAsync(dst + first, staged, n, cudaMemcpyHostToDevice, stream_));
    } else {
      raw_[b].reserve(chunk_bytes);
      PM_CUDA_CHECK(cudaMemcpyAsync(raw_[b].get(), staged, n, cudaMemcpyHostToDevice, stream_));
      PM_CUDA_CHECK(kc::convert<T>({.src = raw_[b].get(), .src_type = element_of(src.type),
                                    .dst = dst + first, .n = static_cast<int64_t>(n / element)},
                                   stream_));
    }
    PM_CUDA_CHECK(cudaEventRecord(drained_[b], stream_));
  }
}

template <typename T>
void weight_upload::copy_fp8(const tensor_view& src, const fp8_scales& host, T* dst) {
  PM_ASSERT(src.type == dtype::dtype_f8_e4m3 && src.shape.size() == 2, "an e4m3 matrix");
  device_array<float>& scales = scales_.emplace_back(host.values.size());
  PM_CUDA_CHECK(cudaMemcpy(scales.get(), host.values.data(), host.values.size() * sizeof(float),
                           cudaMemcpyHostToDevice));
  for (size_t off = 0; off < src.num_bytes; off += chunk_bytes) {
    const size_t n = std::min(chunk_bytes, src.num_bytes - off);
    const int b = next_;
    next_ ^= 1;
    std::byte* staged = stage(b, src.data + off, n);
    raw_[b].reserve(chunk_bytes);
    PM_CUDA_CHECK(cudaMemcpyAsync(raw_[b].get(), staged, n, cudaMemcpyHostToDevice, stream_));
    PM_CUDA_CHECK(kc::fp8_dequant<T>({.q = reinterpret_cast<const uint8_t*>(raw_[b].get()),
                                      .scale = scales.get(), .out = dst + off,
                                      .first = static_cast<int64_t>(off),
                                      .count = static_cast<int64_t>(n), .cols = src.shape[1],
                                      .block_rows = host.block_rows,
                                      .block_cols = host.block_cols},
                                     stream_));
    PM_CUDA_CHECK(cudaEventRecord(drained_[b], stream_));
  }
}

void weight_upload::finish() {
  PM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  scales_.clear();
}

template void weight_upload::copy<float>(const tensor_view&, float*);
template void weight_upload::copy<__nv_bfloat16>(const tensor_view&, __nv_bfloat16*);
template void weight_upload::copy_fp8<float>(const tensor_view&, const fp8_scales&, float*);
template void weight_upload::copy_fp8<__nv_bfloat16>(const tensor_view&, const fp8_scales&,
                                                     __nv_bfloat16*);

} // namespace proofmesh::engine
