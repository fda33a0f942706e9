// An owned, page-locked host buffer that only grows: the staging area of each step's plan, so the
// copy to the device is one DMA instead of a staged pageable copy. Rules of the road: the caller
// must not refill it while a copy from it may still run (the runner synchronises every step).
#pragma once

#include "actors/engine/cuda/cuda_error.hpp"

#include <cstddef>
#include <span>
#include <utility>

namespace proofmesh::engine {

template <typename T>
class pinned_array {
public:
  pinned_array() = default;
  ~pinned_array() { cudaFreeHost(ptr_); }
  pinned_array(const pinned_array&) = delete;
  pinned_array& operator=(const pinned_array&) = delete;

  /// Ensures room for `count` elements; old contents are not kept when it grows.
  void reserve(size_t count) {
    if (count <= capacity_) {
      return;
    }
    cudaFreeHost(ptr_);
    ptr_ = nullptr;
    capacity_ = 0;
    PM_CUDA_CHECK(cudaMallocHost(&ptr_, count * sizeof(T)));
    capacity_ = count;
  }

  T* get() const { return ptr_; }
  size_t capacity() const { return capacity_; }

private:
  T* ptr_ = nullptr;
  size_t capacity_ = 0;
};

} // namespace proofmesh::engine
