// Conversions between f32 and the two 16-bit float formats weights come in, and both ways
// between f32 and e4m3 (FP8 weights and the FP8 KV cache: no infinities, S.1111.111 is NaN, 448
// the largest finite value).
// Rules of the road: all four work on bit patterns with integer arithmetic, so they do not depend
// on the FPU rounding mode or on compiler support for _Float16. Narrowing rounds to nearest, ties
// to even, as PyTorch's .to(torch.bfloat16) / .half() do; overflow goes to inf; NaN stays NaN
// (quiet, sign and top payload bits kept). f16 subnormals are produced and read exactly.
// Narrowing to e4m3 saturates instead (inf and values past 448 become +-448, NaN becomes
// S.1111.111), as CUDA's __nv_cvt_float_to_fp8 with __NV_SATFINITE does, so that the CPU and the
// GPU store the same FP8 KV cache bit for bit.
#pragma once

#include <cstdint>
#include <span>

namespace proofmesh::engine {

float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float e4m3_to_f32(uint8_t bits);
uint8_t f32_to_e4m3(float value);
/// `x` as e4m3 codes scaled so that its largest magnitude lands on 448; returns the scale
/// (max |x| / 448; 0 for all zeros). `codes` holds x.size(). The FP8 KV cache's rounding of one
/// head of one token, computed as x * (448 / max) like kernels/cuda/kv_cache_write.cu, so that
/// the CPU and the GPU store the same bits.
float quantise_e4m3(std::span<const float> x, std::span<uint8_t> codes);

} // namespace proofmesh::engine
