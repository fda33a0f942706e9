// Programmatic dependent launch (Hopper): a decode step is ~350 short kernels in a row, and at
// small batches each one's launch and ramp (CTAs dispatched, first loads in flight) is a gap in
// which HBM idles. A kernel launched by launch_dependent may start once every CTA of the kernel
// before it on the stream has passed wait_for_upstream (or exited): its CTAs are then resident
// while the one before drains, and what they may do before wait_for_upstream is read data no
// kernel writes (weights). CUDA graphs captured from the stream keep these as programmatic edges.
//
// The rule every kernel launched this way keeps: wait_for_upstream before its first access to any
// buffer an earlier kernel writes or reads (activations, the KV cache, step inputs; a write too,
// since the kernel before may still read what it overwrites). It returns once the whole grid
// before has finished and its writes are visible (that grid waited for its own predecessor
// first, so every earlier kernel is done), and only then lets the next kernel start: at most
// one kernel waits ahead of the one running, and the chain never fills the SMs with CTAs that
// cannot start.
// A kernel launched normally after one of these waits for its whole grid, as always, and one of
// these after a normal kernel (cuBLASLt's) starts when that kernel ends: the pairs mix freely.
// PM_PDL=0 in the environment launches everything normally (the with/without variant of the
// benchmarks); the device functions are then no-ops.
#pragma once

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace proofmesh::kernels::cuda {

__device__ __forceinline__ void wait_for_upstream() {
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}

/// Whether launch_dependent asks for early starts: true unless PM_PDL=0 (read once).
inline bool dependent_launch_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("PM_PDL");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

/// kernel<<<grid, block, smem, stream>>>(args...) with the programmatic-serialization attribute;
/// returns the launch's status.
template <typename... Params, typename... Args>
cudaError_t launch_dependent(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
                             cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = dependent_launch_enabled() ? 1 : 0;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

} // namespace proofmesh::kernels::cuda
