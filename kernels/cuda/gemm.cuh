// y = x · wᵀ + bias through cuBLASLt: the linear layers and the logits of the CUDA backend.
// Rules of the road: weights are row-major [n, k] as Hugging Face stores them; cuBLASLt is
// column-major, so we compute yᵀ = w · xᵀ (op T on w with ld k, op N on x with ld k, ld n on
// y). Accumulation is always true float32 (CUBLAS_COMPUTE_32F): with float inputs no TF32 is
// used, so the f32 path is our exactness reference; with bf16 inputs the products are exact in
// float32 and only the output is rounded. The bias, when given, has the OUTPUT type (cuBLASLt's
// default for the BIAS epilogue: bias elements have the type of D) and is added in float32
// before that rounding.
//
// A gemm_handle owns the cuBLASLt handle, a 32 MiB workspace and the chosen algorithm of each
// problem shape it has seen (cuBLASLt's heuristic is asked once per shape, types, bias presence
// and pointer alignments). A handle is not thread-safe and its workspace serves one stream at a
// time: give each stream its own handle.
//
// Errors: every function returns a cudaError_t. cuBLAS statuses map to the nearest runtime error:
// NOT_INITIALIZED → cudaErrorInitializationError, ALLOC_FAILED → cudaErrorMemoryAllocation,
// INVALID_VALUE → cudaErrorInvalidValue, ARCH_MISMATCH → cudaErrorNoKernelImageForDevice,
// NOT_SUPPORTED (and a heuristic that finds no algorithm) → cudaErrorNotSupported,
// EXECUTION_FAILED → cudaErrorLaunchFailure, anything else → cudaErrorUnknown.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <library_types.h>

#include <cstddef>
#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr size_t gemm_workspace_bytes = size_t{32} << 20;

struct gemm_plan_cache; // defined in gemm.cu

struct gemm_handle {
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;          // [gemm_workspace_bytes] device scratch (split-K partials)
  gemm_plan_cache* plans = nullptr;   // algorithm per problem shape, owned
};

/// Creates the cuBLASLt handle and the workspace on the current device. On failure h is left
/// empty (destroy is still safe).
cudaError_t gemm_handle_create(gemm_handle& h);

/// Frees everything h owns and empties it; safe on an empty handle. Synchronise the streams
/// that used h first: the workspace is freed with cudaFree.
cudaError_t gemm_handle_destroy(gemm_handle& h);

struct gemm_params {
  const void* x;           // [m, k] row-major, type a_type
  const void* w;           // [n, k] row-major (HF Linear weight), type a_type
  const void* bias;        // [n], type out_type, or nullptr
  void* y;                 // [m, n] row-major, type out_type; must not overlap x or w
  int64_t m;
  int64_t n;
  int64_t k;
  cudaDataType_t a_type;   // CUDA_R_16BF or CUDA_R_32F
  cudaDataType_t out_type; // CUDA_R_16BF or CUDA_R_32F; float inputs need a float output
  // Strided rows and strided batches (the defaults: one problem of dense rows). MLA's per-head
  // projections are `heads` such problems over interleaved rows: y_i = x_i · w_i or x_i · w_iᵀ.
  int64_t x_ld = 0;        // row stride of x in elements; 0: k
  int64_t y_ld = 0;        // row stride of y in elements; 0: n
  bool w_kn = false;       // w is [k, n] row-major (y = x · w) instead of [n, k] (y = x · wᵀ)
  int64_t batch = 1;       // problems; the i-th reads x + i·x_batch and w + i·w_batch (elements)
  int64_t x_batch = 0;     //   and writes y + i·y_batch
  int64_t w_batch = 0;
  int64_t y_batch = 0;
};

/// cudaErrorInvalidValue on negative sizes, n or k <= 0, unsupported type pairs, null pointers,
/// an empty handle, a row stride below the row, batch < 1, a negative batch stride or a bias
/// with batch > 1; m == 0 is a no-op.
cudaError_t gemm(gemm_handle& h, const gemm_params& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
