// Rules of the road: every conversion is checked against an independent reference, rounding in
// double with std::nearbyint (ties to even under the default rounding mode), never against the
// library itself. 16-bit formats are small enough to test exhaustively both ways.
#include "actors/engine/weights/half_precision.hpp"

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

// Rounds a finite x to a binary format with `mantissa_bits` stored bits, smallest normal exponent
// `min_exponent` and largest finite value `max_finite`; returns the value as f32 (exact).
float reference_round(float x, int mantissa_bits, int min_exponent, double max_finite) {
  if (x == 0.0f) return x;
  int exponent = 0;
  std::frexp(static_cast<double>(x), &exponent);  // x = m * 2^exponent, 0.5 <= |m| < 1
  const int leading_bit = std::max(exponent - 1, min_exponent);
  const double quantum = std::ldexp(1.0, leading_bit - mantissa_bits);
  const double rounded = std::nearbyint(static_cast<double>(x) / quantum) * quantum;
  if (std::fabs(rounded) > max_finite) return std::copysign(inf, x);
  return static_cast<float>(rounded);
}

float reference_f16(float x) { return reference_round(x, 10, -14, 65504.0); }
float reference_bf16(float x) {
  return reference_round(x, 7, -126, static_cast<double>(std::bit_cast<float>(0x7F7F0000u)));
}

bool same_bits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }

TEST(half_precision, f16_known_values) {
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));         // smallest normal
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));         // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.0f, -24));      // largest subnormal
  EXPECT_EQ(f16_to_f32(0x7C00), inf);
  EXPECT_EQ(f16_to_f32(0xFC00), -inf);
  EXPECT_TRUE(same_bits(f16_to_f32(0x8000), -0.0f));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7C01)));

  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);   // below the midpoint to 65536
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);   // midpoint, 65504 is odd: ties go to inf
  EXPECT_EQ(f32_to_f16(1e10f), 0x7C00);
  EXPECT_EQ(f32_to_f16(-inf), 0xFC00);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);            // tie to even (zero)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);            // above the tie
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);            // 1.5 ulp: tie to even (2)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -30)), 0x8000);
  EXPECT_EQ(f32_to_f16(std::ldexp(1023.75f, -24)), 0x0400);        // subnormal rounds up to normal
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);     // tie to even
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);     // tie to even (up)
}

TEST(half_precision, f16_nan_stays_nan) {
  for (uint32_t bits : {0x7FC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu, 0x7F802000u}) {
    const uint16_t half = f32_to_f16(std::bit_cast<float>(bits));
    EXPECT_EQ(half & 0x7C00, 0x7C00) << std::hex << bits;
    EXPECT_NE(half & 0x03FF, 0) << std::hex << bits;
    EXPECT_EQ(half >> 15, bits >> 31);
  }
}

TEST(half_precision, f16_exhaustive_round_trip) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float value = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(value)) {
      EXPECT_EQ(f32_to_f16(value), h | 0x0200) << std::hex << h;  // quieted, payload kept
    } else {
      EXPECT_EQ(f32_to_f16(value), h) << std::hex << h;
      EXPECT_TRUE(same_bits(value, reference_f16(value))) << std::hex << h;
    }
  }
}

TEST(half_precision, bf16_known_values) {
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC040), -3.0f);
  EXPECT_EQ(bf16_to_f32(0x7F80), inf);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);                          // tie, even
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(3.0f, -8)), 0x3F82);                          // tie, even
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);  // above
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to inf
  EXPECT_EQ(f32_to_bf16(-inf), 0xFF80);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
}

// e4m3fn as torch.float8_e4m3fn reads it: bias 7, no infinities, 0x7F and 0xFF the only NaNs.
TEST(half_precision, e4m3_every_value) {
  EXPECT_EQ(e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(e4m3_to_f32(0x7E), 448.0f);
  EXPECT_EQ(e4m3_to_f32(0xFE), -448.0f);
  EXPECT_EQ(e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(e4m3_to_f32(0x80), 0.0f);
  EXPECT_TRUE(std::signbit(e4m3_to_f32(0x80)));
  for (int b = 0; b < 256; ++b) {
    const auto bits = static_cast<uint8_t>(b);
    const float v = e4m3_to_f32(bits);
    if ((b & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(v)) << b;
      continue;
    }
    // The value from the format's definition, computed independently in double.
    const int exponent = (b >> 3) & 0xF, mantissa = b & 7;
    const double magnitude = exponent == 0 ? mantissa * std::ldexp(1.0, -9)
                                           : (1.0 + mantissa / 8.0) * std::ldexp(1.0, exponent - 7);
    EXPECT_EQ(static_cast<double>(v), (b & 0x80) ? -magnitude : magnitude) << b;
  }
}

// Narrowing to e4m3 with saturation: every finite code comes back as itself; each midpoint
// between two neighbours rounds to the one with the even code; past 448 and inf saturate.
TEST(half_precision, e4m3_narrowing_rounds_to_even_and_saturates) {
  for (int b = 0; b < 256; ++b) {
    if ((b & 0x7F) == 0x7F) continue;
    EXPECT_EQ(f32_to_e4m3(e4m3_to_f32(static_cast<uint8_t>(b))), b) << b;
  }
  for (int b = 0; b < 0x7E; ++b) { // positive neighbours b, b + 1
    const float lo = e4m3_to_f32(static_cast<uint8_t>(b));
    const float hi = e4m3_to_f32(static_cast<uint8_t>(b + 1));
    const float mid = (lo + hi) / 2; // exact in float
    EXPECT_EQ(f32_to_e4m3(mid), (b % 2 == 0) ? b : b + 1) << b;
    EXPECT_EQ(f32_to_e4m3(std::nextafter(mid, 0.0f)), b) << b;
    EXPECT_EQ(f32_to_e4m3(std::nextafter(mid, 1e9f)), b + 1) << b;
    EXPECT_EQ(f32_to_e4m3(-mid), 0x80 | ((b % 2 == 0) ? b : b + 1)) << b;
  }
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(f32_to_e4m3(464.0f), 0x7E); // rounds up to 480, past the largest finite: saturates
  EXPECT_EQ(f32_to_e4m3(1e30f), 0x7E);
  EXPECT_EQ(f32_to_e4m3(inf), 0x7E);
  EXPECT_EQ(f32_to_e4m3(-inf), 0xFE);
  EXPECT_EQ(f32_to_e4m3(std::numeric_limits<float>::quiet_NaN()) & 0x7F, 0x7F);
  EXPECT_EQ(f32_to_e4m3(std::ldexp(1.0f, -10)), 0x00);  // half the smallest subnormal: even
  EXPECT_EQ(f32_to_e4m3(std::ldexp(1.5f, -10)), 0x01);
  EXPECT_EQ(f32_to_e4m3(-0.0f), 0x80);
}

TEST(half_precision, bf16_nan_stays_nan) {
  // 0x7F800001 would truncate to 0x7F80, which is inf.
  for (uint32_t bits : {0x7FC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu}) {
    const uint16_t half = f32_to_bf16(std::bit_cast<float>(bits));
    EXPECT_TRUE(std::isnan(bf16_to_f32(half))) << std::hex << bits;
    EXPECT_EQ(half >> 15, bits >> 31);
  }
}

TEST(half_precision, bf16_exhaustive_round_trip) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float value = bf16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(value)) {
      EXPECT_EQ(f32_to_bf16(value), h | 0x0040) << std::hex << h;
    } else {
      EXPECT_EQ(f32_to_bf16(value), h) << std::hex << h;
    }
  }
}

TEST(half_precision, narrowing_matches_reference_on_random_floats) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> any_bits;
  // Half the samples span every f32; half sit in f16's range, where its rounding is interesting.
  std::uniform_real_distribution<float> exponent(-27.0f, 17.0f);
  for (int i = 0; i < 400'000; ++i) {
    float x = std::bit_cast<float>(any_bits(rng));
    if (i % 2 == 0) x = std::copysign(std::exp2(exponent(rng)), x);
    if (std::isnan(x)) continue;
    ASSERT_TRUE(same_bits(f16_to_f32(f32_to_f16(x)), reference_f16(x))) << std::hexfloat << x;
    ASSERT_TRUE(same_bits(bf16_to_f32(f32_to_bf16(x)), reference_bf16(x))) << std::hexfloat << x;
  }
}

// A head's largest magnitude lands on +-448 whatever its size; the rest keep their ratio to it
// to e4m3's precision; an all-zero head gets scale 0 and zero codes.
TEST(half_precision, quantise_e4m3_scales_each_row_to_the_whole_range) {
  const std::vector<float> x = {3e-3f, -6e-3f, 1.5e-3f, 0.0f};
  std::vector<uint8_t> codes(x.size());
  const float scale = quantise_e4m3(x, codes);
  EXPECT_EQ(scale, 6e-3f / 448.0f);
  EXPECT_EQ(codes[1], 0xFE); // -448
  EXPECT_EQ(codes[0], f32_to_e4m3(224.0f));
  EXPECT_EQ(codes[2], f32_to_e4m3(112.0f));
  EXPECT_EQ(codes[3], 0x00);
  const std::vector<float> zeros(8, 0.0f);
  std::vector<uint8_t> zero_codes(8, 0xAB);
  EXPECT_EQ(quantise_e4m3(zeros, zero_codes), 0.0f);
  EXPECT_EQ(zero_codes, std::vector<uint8_t>(8, 0));
}

} // namespace
} // namespace proofmesh::engine
