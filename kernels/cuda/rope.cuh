// Rotary position embeddings, in place: the "rotate half" layout of Hugging Face Llama/Qwen
// (dimension i pairs with i + head_dim/2) or DeepSeek's interleaved one (2i with 2i+1), on the
// first head_dim dimensions of heads head_stride apart. The same function as kernels/cpu/rope: the angle is the
// float32 product position * inv_freq[i], cos and sin are the precise sincosf (positions reach
// 1e5 and more, where the fast intrinsics are far off), and the rotation's products and sums are
// rounded one by one (no fused multiply-add), as transformers' elementwise ops do.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct rope_params {
  T* x;                      // head h of token t at x + t*token_stride + h*head_stride, rotated in place
  const int32_t* positions;  // [tokens]
  const float* inv_freq;     // [head_dim / 2]
  int64_t tokens;
  int64_t heads;
  int64_t head_dim;          // rotated dimensions: even, at most max_rope_head_dim
  int64_t token_stride;      // elements between tokens of x; >= heads * head_stride
  int64_t head_stride = 0;   // elements between heads; 0 means head_dim
  bool interleaved = false;  // pairs (2i, 2i+1) instead of (i, i + head_dim/2)
  float scale = 1.0f;        // YaRN's attention factor on cos and sin
};

inline constexpr int64_t max_rope_head_dim = 1024;

/// cudaErrorInvalidValue on negative sizes, an odd or out-of-range head_dim, heads <= 0, a
/// token_stride too small or null pointers; tokens == 0 is a no-op.
template <typename T>
cudaError_t rope(const rope_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
