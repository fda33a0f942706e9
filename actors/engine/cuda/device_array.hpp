// An owned, typed device allocation that only grows: the runner's scratch buffers are resized to
// the largest step seen, so steady-state decoding allocates nothing.
#pragma once

#include "actors/engine/cuda/cuda_error.hpp"

#include <cstddef>
#include <utility>

namespace proofmesh::engine {

template <typename T>
class device_array {
public:
  device_array() = default;
  explicit device_array(size_t count) { reserve(count); }
  ~device_array() { cudaFree(ptr_); }
  device_array(device_array&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}
  device_array& operator=(device_array&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    std::swap(capacity_, other.capacity_);
    return *this;
  }
  device_array(const device_array&) = delete;
  device_array& operator=(const device_array&) = delete;

  /// Ensures room for `count` elements; old contents are not kept when it grows. Returns whether
  /// it grew, which moves the buffer (captured CUDA graphs that point into it go stale).
  bool reserve(size_t count) {
    if (count <= capacity_) {
      return false;
    }
    cudaFree(ptr_);
    ptr_ = nullptr;
    capacity_ = 0;
    PM_CUDA_CHECK(cudaMalloc(&ptr_, count * sizeof(T)));
    capacity_ = count;
    return true;
  }

  T* get() const { return ptr_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return capacity_ == 0; }

private:
  T* ptr_ = nullptr;
  size_t capacity_ = 0;
};

} // namespace proofmesh::engine
