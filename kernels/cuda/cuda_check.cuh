// The CUDA tier of error checks (STYLE.md item 5): a runtime call that fails is turned into a
// status the launcher returns, so callers decide how to report it; kernels never abort a process.
#pragma once

#include <cuda_runtime.h>

#define PM_CUDA_TRY(expr)                 \
  do {                                    \
    cudaError_t pm_err_ = (expr);         \
    if (pm_err_ != cudaSuccess) {         \
      return pm_err_;                     \
    }                                     \
  } while (0)
