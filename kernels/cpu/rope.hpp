// Rotary position embeddings in the "rotate half" layout of Hugging Face Llama/Qwen: dimension i
// pairs with i + head_dim/2. The inverse frequencies are computed once per model (with llama3
// scaling where the config asks for it); angles are float32 products, as in transformers.
#pragma once

#include <cstdint>
#include <vector>

namespace proofmesh::kernels::cpu {

struct rope_freq_params {
  int64_t head_dim;
  double theta;
  bool llama3;                       // apply llama3 frequency scaling
  double factor;                     // llama3 only
  double low_freq_factor;            // llama3 only
  double high_freq_factor;           // llama3 only
  double original_max_position;      // llama3 only
};

/// [head_dim / 2] inverse frequencies.
std::vector<float> rope_inv_freq(const rope_freq_params& p);

struct rope_params {
  float* x;                 // [tokens, heads, head_dim], rotated in place
  const int64_t* positions; // [tokens]
  const float* inv_freq;    // [head_dim / 2]
  int64_t tokens;
  int64_t heads;
  int64_t head_dim;
  int64_t token_stride;     // elements between tokens of x
};

void rope(const rope_params& p);

} // namespace proofmesh::kernels::cpu
