// Rules of the road: std::bit_cast only, no unions or pointer puns. The magic numbers are IEEE 754
// field boundaries; each carries the value it stands for.
#include "actors/engine/weights/half_precision.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace proofmesh::engine {

namespace {

constexpr uint32_t f32_abs_mask = 0x7FFF'FFFF;
constexpr uint32_t f32_inf_bits = 0x7F80'0000;

// Shifts right by `shift` (1..31) rounding to nearest, ties to even.
uint32_t shift_right_rne(uint32_t value, uint32_t shift) {
  const uint32_t halfway = 1u << (shift - 1);
  const uint32_t remainder = value & ((1u << shift) - 1);
  uint32_t result = value >> shift;
  if (remainder > halfway || (remainder == halfway && (result & 1u) != 0)) ++result;
  return result;
}

} // namespace

float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

uint16_t f32_to_bf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & f32_abs_mask) > f32_inf_bits) {
    // Truncating could clear every payload bit and turn NaN into inf; force the quiet bit.
    return static_cast<uint16_t>((bits >> 16) | 0x0040);
  }
  // A carry out of the mantissa bumps the exponent, which is the right answer (up to inf).
  return static_cast<uint16_t>(shift_right_rne(bits, 16));
}

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | f32_inf_bits | (mantissa << 13));
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal f16 (mantissa * 2^-24) is a normal f32: shift the leading one into the implicit
  // bit, lowering the exponent from that of 2^-14 (biased 113) once per shift.
  uint32_t f32_exponent = 113;
  while ((mantissa & 0x400) == 0) {
    mantissa <<= 1;
    --f32_exponent;
  }
  return std::bit_cast<float>(sign | (f32_exponent << 23) | ((mantissa & 0x3FF) << 13));
}

uint16_t f32_to_f16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & f32_abs_mask;
  if (magnitude > f32_inf_bits) {
    return static_cast<uint16_t>(sign | 0x7E00 | ((magnitude >> 13) & 0x3FF));
  }
  // 65520 is halfway between 65504 (largest f16, odd mantissa) and 65536: it and above round to inf.
  if (magnitude >= 0x477F'F000) return static_cast<uint16_t>(sign | 0x7C00);
  // 2^-14 (0x3880'0000) and above are normal f16: rebias the exponent by 127 - 15 = 112 and round
  // away 13 mantissa bits; a carry into the exponent field is again the right answer.
  if (magnitude >= 0x3880'0000) {
    return static_cast<uint16_t>(sign | shift_right_rne(magnitude - (112u << 23), 13));
  }
  // At or below 2^-25 (half the smallest subnormal, 2^-24) the value rounds to zero (ties to even).
  if (magnitude <= 0x3300'0000) return sign;
  // Subnormal: the result is round(value / 2^-24) = round(mantissa_with_one * 2^(e + 1)), where
  // e = biased_exponent - 127 lies in [-25, -15], so we shift right by 126 - biased_exponent.
  const uint32_t biased_exponent = magnitude >> 23;
  const uint32_t mantissa = (magnitude & 0x7F'FFFF) | 0x80'0000;
  return static_cast<uint16_t>(sign | shift_right_rne(mantissa, 126 - biased_exponent));
}

float e4m3_to_f32(uint8_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x80) << 24;
  const uint32_t exponent = (bits >> 3) & 0xF;
  const uint32_t mantissa = bits & 0x7;
  if (exponent == 0xF && mantissa == 0x7) return std::bit_cast<float>(sign | 0x7FC0'0000);
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 120) << 23) | (mantissa << 20));
  // Subnormal: mantissa * 2^-9, exact in f32.
  const float magnitude = static_cast<float>(mantissa) * 0x1p-9f;
  return sign != 0 ? -magnitude : magnitude;
}

uint8_t f32_to_e4m3(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint8_t>((bits >> 24) & 0x80);
  const uint32_t magnitude = bits & 0x7FFF'FFFF;
  if (magnitude > 0x7F80'0000) return static_cast<uint8_t>(sign | 0x7F);
  // 448 (0x43E0'0000) and above, inf included, saturate; below it nothing rounds past 448.
  if (magnitude >= 0x43E0'0000) return static_cast<uint8_t>(sign | 0x7E);
  // 2^-6 (0x3C80'0000) and above are normal e4m3: rebias the exponent by 127 - 7 = 120 and round
  // away 20 mantissa bits; a carry into the exponent field is again the right answer.
  if (magnitude >= 0x3C80'0000) {
    return static_cast<uint8_t>(sign | shift_right_rne(magnitude - (120u << 23), 20));
  }
  // At or below 2^-10 (half the smallest subnormal, 2^-9) the value rounds to zero (ties to even).
  if (magnitude <= 0x3A80'0000) return sign;
  // Subnormal: round(value / 2^-9) = round(mantissa_with_one * 2^(biased_exponent - 141)).
  const uint32_t biased_exponent = magnitude >> 23;
  const uint32_t mantissa = (magnitude & 0x7F'FFFF) | 0x80'0000;
  return static_cast<uint8_t>(sign | shift_right_rne(mantissa, 141 - biased_exponent));
}

float quantise_e4m3(std::span<const float> x, std::span<uint8_t> codes) {
  float amax = 0.0f;
  for (float v : x) {
    amax = std::max(amax, std::fabs(v));
  }
  const float inv = amax > 0.0f ? 448.0f / amax : 0.0f;
  for (size_t i = 0; i < x.size(); ++i) {
    codes[i] = f32_to_e4m3(x[i] * inv);
  }
  return amax / 448.0f;
}

} // namespace proofmesh::engine
