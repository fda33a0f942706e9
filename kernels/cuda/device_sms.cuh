// The SM count of the current device, asked once per device: launchers that size a grid to what
// is resident at once (split-K MLA, the streaming gemv) ask it on every launch.
#pragma once

#include <cuda_runtime.h>

#include <atomic>

namespace proofmesh::kernels::cuda {

/// sms: the current device's SM count (0 if the query fails, whose error is returned).
inline cudaError_t sms_of_current_device(int& sms) {
  constexpr int max_devices = 64;
  static std::atomic<int> known[max_devices]; // zero: not asked yet
  int device = 0;
  sms = 0;
  if (cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) {
    return e;
  }
  sms = known[device % max_devices].load();
  if (sms == 0) {
    if (cudaError_t e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
        e != cudaSuccess) {
      sms = 0;
      return e;
    }
    known[device % max_devices].store(sms);
  }
  return cudaSuccess;
}

} // namespace proofmesh::kernels::cuda
