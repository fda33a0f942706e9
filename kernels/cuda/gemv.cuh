// y = x · wᵀ + bias for a few rows of x: the decode-time linear layers of small batches, where
// cuBLASLt's kernels leave much of the HBM bandwidth unused. Reading the weights once is the whole
// cost, so the kernel's only job is to keep enough 16-byte loads in flight.
// Rules of the road: bf16 x and w, float32 accumulation, output bf16 or float32 (rounded once),
// bias in the output type added in float32 before rounding, as gemm does. One warp per output
// feature: lanes stride along k in 8-element (16-byte) vectors and reduce by shuffles; every row
// of x is read from L1/L2 (it is tiny) for each weight vector. The launcher refuses shapes it
// cannot serve (k not a multiple of 8, unaligned pointers, m outside [1, max_gemv_rows], x over
// the 96 KB it stages in shared memory); callers
// fall back to gemm, and can ask gemv_supports first.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <library_types.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

inline constexpr int64_t max_gemv_rows = 8;
/// Rows of x the streaming and gated forms serve (the engine's 1 and 2).
inline constexpr int64_t max_streaming_gemv_rows = 2;
inline constexpr int64_t max_gated_gemv_rows = 2;

/// How the kernel walks the weights. per_row: one launch-wide wave of warps per 8 output
/// features, each warp one row, one round trip for a row of k <= 4,096. streaming: a resident
/// grid (two blocks an SM) whose warps each walk a contiguous run of rows in 4 KB chunks, the
/// next chunk's loads in flight while the current one is used, so no wave boundary drains the
/// loads in flight. automatic: the form the kernel lab measured faster for the shape.
enum class gemv_form : uint8_t { automatic, per_row, streaming };

struct gemv_params {
  const __nv_bfloat16* x;  // [m, k] row-major, 16-byte aligned
  const __nv_bfloat16* w;  // [n, k] row-major (HF Linear weight), 16-byte aligned
  const void* bias;        // [n] of out_type, or nullptr
  void* y;                 // [m, n] row-major, out_type
  int64_t m;               // 1..max_gemv_rows
  int64_t n;
  int64_t k;               // multiple of 8
  cudaDataType_t out_type; // CUDA_R_16BF or CUDA_R_32F
  gemv_form form = gemv_form::automatic; // streaming needs m <= max_streaming_gemv_rows
  // The MLP's gate_up product with its activation: w stacks [gate; up] (n rows, n even), and
  // y is [m, n / 2] of silu(x · gateᵀ) · (x · upᵀ), with gate and up rounded to bf16 first as
  // the gate_up product stores them and the silu_mul kernel's arithmetic after: the same bits as
  // the two kernels. bf16 out, no bias, per-row form, m <= max_gated_gemv_rows.
  bool gated = false;
};

/// Whether gemv serves these sizes and pointers.
bool gemv_supports(const gemv_params& p);

/// cudaErrorInvalidValue when gemv_supports is false.
cudaError_t gemv(const gemv_params& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
