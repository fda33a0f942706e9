// The CUDA tier of error checks for host code (STYLE.md item 5): a failed runtime call or kernel
// launch throws cuda_error with the call, file and line. Runner methods let it propagate to the
// edge of the process or actor, which reports it; a device fault is not bad user input.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace proofmesh::engine {

class cuda_error : public std::runtime_error {
public:
  explicit cuda_error(const std::string& what) : std::runtime_error(what) {}
};

} // namespace proofmesh::engine

#define PM_CUDA_CHECK(expr)                                                                    \
  do {                                                                                         \
    cudaError_t pm_status_ = (expr);                                                           \
    if (pm_status_ != cudaSuccess) {                                                           \
      throw ::proofmesh::engine::cuda_error(std::string(#expr) + " failed at " + __FILE__ + ":" + \
                                            std::to_string(__LINE__) + ": " +                  \
                                            cudaGetErrorString(pm_status_));                   \
    }                                                                                          \
  } while (0)
