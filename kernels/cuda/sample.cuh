// Sampling on the GPU: one token per logits row, plus the row's top-k logprobs, so a decode step
// copies a few integers to the host instead of [rows, vocab] floats.
// Rules of the road:
// - Logprobs are the log-softmax of the raw logits, highest first, ties by lower id (the same
//   contract as the CPU sampler); with them, the sampled token's own (it may be outside the top).
// - temperature <= 0 or top_k == 1 is greedy: the first maximum.
// - Otherwise temperature, then top-k (ties at the k-th value kept, as transformers does), then
//   top-p (the smallest highest-first set whose mass reaches top_p), then one draw by the
//   Gumbel-max trick with noise from a counter-based hash of (seed, stream, step, token id).
//   Thresholds come from an exact radix select over the float bits; masses are summed in 2^-32
//   fixed point with integer atomics, so the same inputs always give the same token.
// - A row is one block of 1,024 threads, or, for small batches given a workspace, up to 32
//   co-resident blocks (a cooperative launch) that each take a slice of the row and meet at
//   row-wide reductions. The split changes no result: the sums are integers, the selects walk the
//   same merged histograms and the argmax breaks ties by id. Rows that want logprobs stay whole.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace proofmesh::kernels::cuda {

constexpr int32_t max_sample_logprobs = 128;
constexpr int64_t max_split_sample_rows = 64; // larger batches keep one block per row

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
  float* token_logprobs = nullptr;  // [rows]: each sampled token's own; nullptr: not written
  int64_t rows;
  int64_t vocab;
  int32_t num_logprobs;             // [0, max_sample_logprobs]
  void* workspace = nullptr;        // [sample_workspace_bytes(rows)], or nullptr: one block a row
};

/// Bytes of workspace that let `rows` rows split over several blocks (0: they never split).
size_t sample_workspace_bytes(int64_t rows);

/// Blocks each row of a launch of `rows` rows would use on the current device (1: whole rows),
/// for tests and benchmarks that must know whether rows split.
int sample_row_blocks(int64_t rows, int64_t vocab, const void* workspace);

cudaError_t sample(const sample_params& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
