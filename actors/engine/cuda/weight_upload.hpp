// Streams checkpoint tensors from host memory (the mapped safetensors) to the device.
// Rules of the road: each tensor goes in chunks through two page-locked staging buffers, so the
// host copy of one chunk overlaps the DMA of the other, and the host never holds more than the
// two chunks beyond the mapped pages the source releases after each tensor. A tensor stored in
// the compute type is copied as is; any other goes to a device staging buffer as raw bytes and a
// kernel converts it (kernels/cuda/convert): no host core widens or narrows a weight.
#pragma once

#include "actors/engine/cuda/device_array.hpp"
#include "actors/engine/cuda/pinned_array.hpp"
#include "actors/engine/weights/fp8_weight.hpp"
#include "actors/engine/weights/tensor_view.hpp"

#include <cuda_runtime.h>

#include <array>
#include <deque>
#include <cstddef>
#include <cstdint>

namespace proofmesh::engine {

class weight_upload {
public:
  explicit weight_upload(cudaStream_t stream);
  ~weight_upload();
  weight_upload(const weight_upload&) = delete;
  weight_upload& operator=(const weight_upload&) = delete;

  /// Queues `src` into dst[0, src.num_elements()) as T (float or __nv_bfloat16). `src` may be
  /// released once this returns: its bytes are already staged.
  template <typename T>
  void copy(const tensor_view& src, T* dst);
  /// Queues the e4m3 matrix `src` into dst as T, dequantised on the device with its block
  /// scales (read_fp8_scales).
  template <typename T>
  void copy_fp8(const tensor_view& src, const fp8_scales& scales, T* dst);
  /// Waits for every queued copy.
  void finish();

private:
  static constexpr size_t chunk_bytes = size_t{32} << 20;
  // Stages host bytes [at, at + n) into buffer `b` after its previous DMA has drained.
  std::byte* stage(int b, const std::byte* at, size_t n);

  cudaStream_t stream_;
  std::array<pinned_array<std::byte>, 2> host_;
  std::array<device_array<std::byte>, 2> raw_; // for tensors that need a conversion
  std::array<cudaEvent_t, 2> drained_{};
  std::deque<device_array<float>> scales_; // FP8 scales on the device, kept until finish()
  int next_ = 0;
};

} // namespace proofmesh::engine
