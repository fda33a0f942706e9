// Sampling on the GPU: one token per logits row, plus the row's top-k logprobs, so a decode step
// copies a few integers to the host instead of [rows, vocab] floats.
// Rules of the road:
// - Logprobs are the log-softmax of the raw logits, highest first, ties by lower id (the same
//   contract as the CPU sampler).
// - temperature <= 0 or top_k == 1 is greedy: the first maximum.
// - Otherwise temperature, then top-k (ties at the k-th value kept, as transformers does), then
//   top-p (the smallest highest-first set whose mass reaches top_p), then one draw by the
//   Gumbel-max trick with noise from a counter-based hash of (seed, stream, step, token id).
//   Thresholds come from an exact radix select over the float bits; masses are summed in 2^-32
//   fixed point with integer atomics, so the same inputs always give the same token.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

constexpr int32_t max_sample_logprobs = 128;

struct sample_row_params {
  float temperature; // <= 0: greedy
  int32_t top_k;     // 0: off
  float top_p;       // (0, 1]; 1: off
  uint64_t seed;
  uint64_t stream;   // sample index: separates the completions of one request
  uint64_t step;     // generated-token index within the completion
};

struct sample_params {
  const float* logits;              // [rows, vocab], row stride vocab
  const sample_row_params* params;  // [rows]
  int32_t* tokens;                  // [rows]
  int32_t* top_ids;                 // [rows, num_logprobs], or nullptr when num_logprobs == 0
  float* top_logprobs;              // [rows, num_logprobs], or nullptr when num_logprobs == 0
  int64_t rows;
  int64_t vocab;
  int32_t num_logprobs;             // [0, max_sample_logprobs]
};

cudaError_t sample(const sample_params& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
