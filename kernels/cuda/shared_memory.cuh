// Dynamic shared memory past 48 KB is opt-in, per kernel and per device. Each kernel that needs
// it keeps one `done` set (a bit per device, devices past 64 folded onto those bits, which only
// costs them a repeated call) and calls this before every launch: the attribute is set once.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

namespace proofmesh::kernels::cuda {

inline cudaError_t opt_in_shared_memory(const void* kernel, int bytes,
                                        std::atomic<uint64_t>& done) {
  int device = 0;
  if (cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) {
    return e;
  }
  const uint64_t bit = uint64_t{1} << (device % 64);
  if ((done.load() & bit) == 0) {
    if (cudaError_t e =
            cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
        e != cudaSuccess) {
      return e;
    }
    done.fetch_or(bit);
  }
  return cudaSuccess;
}

} // namespace proofmesh::kernels::cuda
