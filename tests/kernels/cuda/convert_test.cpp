// The device conversion of checkpoint tensors against the host's (actors/engine/weights/
// half_precision, which matches torch's .to()): f32, f16 and bf16 sources into float and bf16,
// bit for bit, over random values, halfway cases of the bf16 rounding, infinities, NaN and f16
// subnormals. Exact because both sides round to nearest even once.
#include "actors/engine/weights/half_precision.hpp"
#include "gpu_test_support.hpp"
#include "kernels/cuda/convert.cuh"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

std::vector<float> tricky_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -2.5f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 6.0e-8f, 3.0e38f};
  // Exactly halfway between two bf16 values, both parities: round to even.
  for (uint32_t top : {0x3f80u, 0x3f81u, 0xc2c5u}) {
    v.push_back(std::bit_cast<float>((top << 16) | 0x8000u));
  }
  std::normal_distribution<float> dist(0.0f, 3.0f);
  while (v.size() < n) {
    v.push_back(dist(rng));
  }
  return v;
}

// Converts raw `src` (type `type`, `n` elements) to T on the device.
template <typename T>
std::vector<T> convert_on_device(const void* src, size_t bytes, cuda::element_type type, size_t n) {
  void* dsrc = nullptr;
  check_cuda(cudaMalloc(&dsrc, bytes), "cudaMalloc");
  check_cuda(cudaMemcpy(dsrc, src, bytes, cudaMemcpyHostToDevice), "upload");
  device_buffer<T> out(n);
  out.poison();
  EXPECT_EQ(cuda::convert<T>({.src = dsrc, .src_type = type, .dst = out.get(),
                              .n = static_cast<int64_t>(n)},
                             nullptr),
            cudaSuccess);
  std::vector<T> host = out.download();
  cudaFree(dsrc);
  return host;
}

TEST(cuda_convert, every_source_type_into_float_and_bf16_matches_the_host_bit_for_bit) {
  PM_SKIP_WITHOUT_GPU();
  const std::vector<float> f32 = tricky_floats(100003, 1); // odd: a partial last block
  std::vector<uint16_t> f16, bf16;
  for (float x : f32) {
    f16.push_back(engine::f32_to_f16(x));
    bf16.push_back(engine::f32_to_bf16(x));
  }
  const size_t n = f32.size();
  using et = cuda::element_type;

  // float32 -> bf16: the load path of a float32 checkpoint served in bf16.
  {
    std::vector<__nv_bfloat16> got =
        convert_on_device<__nv_bfloat16>(f32.data(), n * 4, et::element_type_f32, n);
    for (size_t i = 0; i < n; ++i) {
      uint16_t b;
      std::memcpy(&b, &got[i], 2);
      if (std::isnan(f32[i])) {
        EXPECT_TRUE(std::isnan(engine::bf16_to_f32(b))) << i;
      } else {
        ASSERT_EQ(b, bf16[i]) << "element " << i << " = " << f32[i];
      }
    }
  }
  // f16 and bf16 -> float32: exact widening.
  for (auto [src, type] : {std::pair{&f16, et::element_type_f16}, std::pair{&bf16, et::element_type_bf16}}) {
    std::vector<float> got = convert_on_device<float>(src->data(), n * 2, type, n);
    for (size_t i = 0; i < n; ++i) {
      const float want = type == et::element_type_f16 ? engine::f16_to_f32((*src)[i])
                                                      : engine::bf16_to_f32((*src)[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else {
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want)) << i;
      }
    }
  }
  // f16 -> bf16: widened exactly, then one rounding.
  {
    std::vector<__nv_bfloat16> got =
        convert_on_device<__nv_bfloat16>(f16.data(), n * 2, et::element_type_f16, n);
    for (size_t i = 0; i < n; ++i) {
      const float wide = engine::f16_to_f32(f16[i]);
      uint16_t b;
      std::memcpy(&b, &got[i], 2);
      if (std::isnan(wide)) {
        EXPECT_TRUE(std::isnan(engine::bf16_to_f32(b))) << i;
      } else {
        ASSERT_EQ(b, engine::f32_to_bf16(wide)) << i;
      }
    }
  }
}

TEST(cuda_convert, rejects_nonsense) {
  PM_SKIP_WITHOUT_GPU();
  device_buffer<float> buf(4);
  EXPECT_EQ(cuda::convert<float>({.src = nullptr, .src_type = cuda::element_type::element_type_f32,
                                  .dst = buf.get(), .n = 4},
                                 nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::convert<float>({.src = buf.get(), .src_type = cuda::element_type::element_type_f32,
                                  .dst = buf.get(), .n = -1},
                                 nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::convert<float>({.src = nullptr, .src_type = cuda::element_type::element_type_f32,
                                  .dst = nullptr, .n = 0},
                                 nullptr),
            cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
