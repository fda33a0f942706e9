// The FP8 KV cache as the tests expect it, computed on the host: one head of one token becomes
// e4m3 codes of x * (448 / max |x|) and the scale max |x| / 448 (kernels/cuda/kv_cache_write.cuh),
// and attention reads code * scale rounded to bf16.
#pragma once

#include "actors/engine/weights/half_precision.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace proofmesh::kernels::test {

/// Quantises the `n` values at `x` into `codes`; returns the head's scale.
inline float quantise_fp8_head(const float* x, int64_t n, uint8_t* codes) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    amax = std::max(amax, std::fabs(x[i]));
  }
  const float inv = amax > 0.0f ? 448.0f / amax : 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    codes[i] = engine::f32_to_e4m3(x[i] * inv);
  }
  return amax / 448.0f;
}

/// What the attention kernel widens a code to: code * scale, rounded to bf16.
inline float widened_fp8(uint8_t code, float scale) {
  return engine::bf16_to_f32(engine::f32_to_bf16(engine::e4m3_to_f32(code) * scale));
}

} // namespace proofmesh::kernels::test
