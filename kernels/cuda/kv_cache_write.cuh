// Writes the current tokens' keys and values into the paged KV cache of one layer.
// Rules of the road: the cache of a layer is [num_blocks, block_size, kv_heads, head_dim], so a
// slot (block * block_size + offset) is one contiguous row of kv_heads * head_dim elements. A
// negative slot means "do not store" (a token whose K/V are not kept); a slot past the cache is
// skipped too, so a bad slot never writes out of bounds (callers validate). Two tokens must not
// name the same slot in one call. The copy is bitwise.
// The FP8 cache (kv_cache_write_fp8) stores e4m3 codes with one float scale per (slot, kv head):
// scale = max |x| over the head's head_dim values / 448, code = e4m3(x / scale) rounded to
// nearest even and saturated, so the head's largest value lands on 448 and every head of every
// token uses the format's whole range whatever its magnitude. Why per head and token rather than
// one scale per tensor: a checkpoint brings no calibrated scales, keys carry outlier channels
// that differ by layer and head, and a per-tensor scale of 1 leaves small values subnormal. The
// cost is 4 bytes per head_dim codes (3% at 128), and attention folds it into the dequantising
// multiply it does anyway. x / scale is computed as x * (448 / max), the order the CPU mirror
// (f32_to_e4m3) follows, so both store the same bits.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace proofmesh::kernels::cuda {

template <typename T>
struct kv_cache_write_params {
  const T* k;            // [tokens, kv_heads*head_dim], rows src_stride apart
  const T* v;            // [tokens, kv_heads*head_dim], rows src_stride apart; or nullptr
  T* k_cache;            // [num_blocks, block_size, kv_heads, head_dim]
  T* v_cache;            // [num_blocks, block_size, kv_heads, head_dim]; nullptr with v: keys only
  const int32_t* slots;  // [tokens]: block * block_size + offset; negative = skip
  int64_t tokens;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t src_stride;    // elements between token rows of k and of v; >= kv_heads * head_dim
  int64_t block_size;    // slots per block
  int64_t num_blocks;
};

struct kv_cache_write_fp8_params {
  const __nv_bfloat16* k;       // [tokens, kv_heads*head_dim], rows src_stride apart
  const __nv_bfloat16* v;       // [tokens, kv_heads*head_dim], rows src_stride apart
  __nv_fp8_e4m3* k_cache;       // [num_blocks, block_size, kv_heads, head_dim]
  __nv_fp8_e4m3* v_cache;       // [num_blocks, block_size, kv_heads, head_dim]
  float* k_scales;              // [num_blocks, block_size, kv_heads]
  float* v_scales;              // [num_blocks, block_size, kv_heads]
  const int32_t* slots;         // [tokens]: block * block_size + offset; negative = skip
  int64_t tokens;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t src_stride;           // elements between token rows of k and of v
  int64_t block_size;
  int64_t num_blocks;
};

/// The FP8 form: keys and values both, quantised per (token, kv head). The same errors as
/// kv_cache_write.
cudaError_t kv_cache_write_fp8(const kv_cache_write_fp8_params& p, cudaStream_t stream);

/// cudaErrorInvalidValue on negative sizes, kv_heads/head_dim/block_size <= 0, a src_stride too
/// small or null pointers; tokens == 0 is a no-op.
template <typename T>
cudaError_t kv_cache_write(const kv_cache_write_params<T>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
