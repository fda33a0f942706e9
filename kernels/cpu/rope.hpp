// Rotary position embeddings, as transformers computes them in float32.
// Rules of the road: two layouts. Rotate-half (Llama, Qwen, DeepSeek's indexer) pairs dimension i
// with i + dim/2; interleaved (DeepSeek's MLA) pairs 2i with 2i+1. transformers writes an
// interleaved head back de-interleaved (evens, then odds); we rotate the pairs in place instead.
// Only dot products of roped q and k are ever taken, and both sides move alike, so the scores are
// the same. The inverse frequencies are computed once per model, with llama3 or YaRN scaling where
// the config asks for it.
#pragma once

#include <cstdint>
#include <vector>

namespace proofmesh::kernels::cpu {

enum class rope_scaling : uint8_t { rope_scaling_none, rope_scaling_llama3, rope_scaling_yarn };

struct rope_freq_params {
  int64_t head_dim;                 // rotated dimensions
  double theta;
  rope_scaling scaling = rope_scaling::rope_scaling_none;
  double factor = 1;                // llama3 and yarn
  double original_max_position = 0; // llama3 and yarn
  double low_freq_factor = 1;       // llama3 only
  double high_freq_factor = 4;      // llama3 only
  double beta_fast = 32;            // yarn only
  double beta_slow = 1;             // yarn only
  bool truncate = true;             // yarn only: whole-dimension correction range
};

/// [head_dim / 2] inverse frequencies.
std::vector<float> rope_inv_freq(const rope_freq_params& p);

struct rope_params {
  float* x;                 // [tokens, heads, head_stride]; rotates dims [0, head_dim) of each head
  const int64_t* positions; // [tokens]
  const float* inv_freq;    // [head_dim / 2]
  int64_t tokens;
  int64_t heads;
  int64_t head_dim;         // rotated dimensions per head
  int64_t head_stride;      // elements between heads; >= head_dim
  int64_t token_stride;     // elements between tokens of x
  bool interleaved = false; // pairs (2i, 2i+1) instead of (i, i + head_dim/2)
  float scale = 1.0f;       // YaRN's attention factor on cos and sin
};

void rope(const rope_params& p);

} // namespace proofmesh::kernels::cpu
