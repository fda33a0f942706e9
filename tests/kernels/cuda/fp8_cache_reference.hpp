// The FP8 KV cache as the tests expect it, computed on the host: one head of one token becomes
// e4m3 codes of x * (448 / max |x|) and the scale max |x| / 448 (engine::quantise_e4m3, which the
// CPU runner's mirror uses too). The prefill form reads code * scale rounded to bf16; the decode
// form uses code * scale unrounded, within the bf16 tolerance of that reference.
#pragma once

#include "actors/engine/weights/half_precision.hpp"

#include <cstdint>

namespace proofmesh::kernels::test {

/// What the prefill form widens a code to: code * scale, rounded to bf16.
inline float widened_fp8(uint8_t code, float scale) {
  return engine::bf16_to_f32(engine::f32_to_bf16(engine::e4m3_to_f32(code) * scale));
}

} // namespace proofmesh::kernels::test
