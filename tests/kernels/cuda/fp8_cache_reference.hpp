// The FP8 KV cache as the tests expect it, computed on the host: one head of one token becomes
// e4m3 codes of x * (448 / max |x|) and the scale max |x| / 448 (engine::quantise_e4m3, which the
// CPU runner's mirror uses too), and attention reads code * scale rounded to bf16.
#pragma once

#include "actors/engine/weights/half_precision.hpp"

#include <cstdint>

namespace proofmesh::kernels::test {

/// Quantises the `n` values at `x` into `codes`; returns the head's scale.
inline float quantise_fp8_head(const float* x, int64_t n, uint8_t* codes) {
  return engine::quantise_e4m3({x, static_cast<size_t>(n)}, {codes, static_cast<size_t>(n)});
}

/// What the attention kernel widens a code to: code * scale, rounded to bf16.
inline float widened_fp8(uint8_t code, float scale) {
  return engine::bf16_to_f32(engine::f32_to_bf16(engine::e4m3_to_f32(code) * scale));
}

} // namespace proofmesh::kernels::test
