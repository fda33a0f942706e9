// The CUDA paged KV cache write against a plain copy loop, for T = float and bf16: a copy, so the
// check is bitwise over the whole cache. K and V rows sit inside wider fused qkv rows; slots are
// shuffled over the blocks; negative slots and slots past the cache are skipped, and every slot
// not written keeps its previous contents. The FP8 form against the host's quantiser
// (engine::quantise_e4m3), bitwise too: codes and scales are exact functions of the bf16 input.
#include "actors/engine/weights/half_precision.hpp"
#include "gpu_test_support.hpp"
#include "kernels/cuda/kv_cache_write.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_kv_cache_write : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_kv_cache_write, element_types, type_names);

template <typename T>
void run_case(int64_t tokens, int64_t kv_heads, int64_t head_dim, int64_t block_size,
              int64_t num_blocks, uint32_t seed) {
  SCOPED_TRACE("tokens " + std::to_string(tokens) + " kv_heads " + std::to_string(kv_heads) +
               " head_dim " + std::to_string(head_dim) + " block " +
               std::to_string(block_size));
  std::mt19937 rng(seed);
  const int64_t width = kv_heads * head_dim;
  const int64_t q_width = 3 * width + 8; // a q part before k, as in the fused qkv row
  const int64_t src_stride = q_width + 2 * width;
  std::vector<T> qkv = random_values<T>(static_cast<size_t>(tokens * src_stride), rng);
  const size_t cache_n = static_cast<size_t>(num_blocks * block_size * width);
  std::vector<T> k_cache = random_values<T>(cache_n, rng);
  std::vector<T> v_cache = random_values<T>(cache_n, rng);

  std::vector<int32_t> all(static_cast<size_t>(num_blocks * block_size));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  std::vector<int32_t> slots(all.begin(), all.begin() + tokens);
  slots[0] = -1;
  if (tokens > 2) {
    slots[2] = static_cast<int32_t>(num_blocks * block_size); // past the cache
  }

  std::vector<T> want_k = k_cache, want_v = v_cache;
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t s = slots[static_cast<size_t>(t)];
    if (s < 0 || s >= num_blocks * block_size) {
      continue;
    }
    for (int64_t i = 0; i < width; ++i) {
      want_k[static_cast<size_t>(s * width + i)] =
          qkv[static_cast<size_t>(t * src_stride + q_width + i)];
      want_v[static_cast<size_t>(s * width + i)] =
          qkv[static_cast<size_t>(t * src_stride + q_width + width + i)];
    }
  }

  device_buffer<T> dqkv(qkv), dk(k_cache), dv(v_cache);
  device_buffer<int32_t> dslots(slots);
  ASSERT_EQ(cuda::kv_cache_write<T>({.k = dqkv.get() + q_width, .v = dqkv.get() + q_width + width,
                                     .k_cache = dk.get(), .v_cache = dv.get(),
                                     .slots = dslots.get(), .tokens = tokens,
                                     .kv_heads = kv_heads, .head_dim = head_dim,
                                     .src_stride = src_stride, .block_size = block_size,
                                     .num_blocks = num_blocks},
                                    nullptr),
            cudaSuccess);
  expect_all_bitwise_equal(dk.download(), want_k, "k cache");
  expect_all_bitwise_equal(dv.download(), want_v, "v cache");
}

TYPED_TEST(cuda_kv_cache_write, writes_shuffled_slots) {
  PM_SKIP_WITHOUT_GPU();
  run_case<TypeParam>(37, 2, 64, 16, 9, 1);   // vector path for bf16 (q_width % 8 == 0)
  run_case<TypeParam>(100, 8, 128, 32, 7, 2);
  run_case<TypeParam>(5, 1, 6, 4, 3, 3);      // scalar path
  run_case<TypeParam>(3, 3, 16, 1, 11, 4);    // block_size 1
}

TYPED_TEST(cuda_kv_cache_write, rejects_nonsense_sizes) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  device_buffer<T> buf(64);
  device_buffer<int32_t> slots(4);
  EXPECT_EQ(cuda::kv_cache_write<T>({.k = buf.get(), .v = buf.get(), .k_cache = buf.get(),
                                     .v_cache = buf.get(), .slots = slots.get(), .tokens = 2,
                                     .kv_heads = 2, .head_dim = 8, .src_stride = 8,
                                     .block_size = 4, .num_blocks = 1},
                                    nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::kv_cache_write<T>({.k = buf.get(), .v = buf.get(), .k_cache = buf.get(),
                                     .v_cache = buf.get(), .slots = slots.get(), .tokens = 2,
                                     .kv_heads = 1, .head_dim = 8, .src_stride = 8,
                                     .block_size = 0, .num_blocks = 1},
                                    nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::kv_cache_write<T>({.k = nullptr, .v = nullptr, .k_cache = nullptr,
                                     .v_cache = nullptr, .slots = nullptr, .tokens = 0,
                                     .kv_heads = 1, .head_dim = 8, .src_stride = 8,
                                     .block_size = 4, .num_blocks = 1},
                                    nullptr),
            cudaSuccess);
}

// Heads of very different magnitudes (1e-3 to 1e3), an all-zero head and one of a single
// outlier: each gets its own scale, and its largest value lands on 448 (code 0x7E).
TEST(cuda_kv_cache_write_fp8, quantises_each_head_with_its_own_scale) {
  PM_SKIP_WITHOUT_GPU();
  using bf16 = __nv_bfloat16;
  for (const auto& [kv_heads, head_dim] :
       {std::pair<int64_t, int64_t>{8, 128}, {2, 64}, {3, 40}}) {
    SCOPED_TRACE("kv_heads " + std::to_string(kv_heads) + " head_dim " + std::to_string(head_dim));
    std::mt19937 rng(static_cast<uint32_t>(kv_heads * head_dim));
    const int64_t tokens = 45, block_size = 16, num_blocks = 5, width = kv_heads * head_dim;
    const int64_t src_stride = 3 * width + 8; // q | k | v | 8 more, as in a fused qkv row
    std::vector<bf16> qkv(static_cast<size_t>(tokens * src_stride));
    std::normal_distribution<float> normal;
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t i = 0; i < src_stride; ++i) {
        const int64_t head = (i % width) / head_dim;
        const float magnitude = std::pow(10.0f, static_cast<float>((t + head) % 7) - 3.0f);
        float x = normal(rng) * magnitude;
        if (t == 3) x = 0.0f;                                 // all-zero heads
        if (t == 4) x = i % head_dim == 5 ? 1e4f : 1e-2f * x; // one outlier per head
        qkv[static_cast<size_t>(t * src_stride + i)] = from_float<bf16>(x);
      }
    }
    std::vector<int32_t> slots(static_cast<size_t>(tokens));
    std::iota(slots.begin(), slots.end(), 0);
    std::shuffle(slots.begin(), slots.end(), rng);
    slots[0] = -1;
    slots[1] = static_cast<int32_t>(num_blocks * block_size); // past the cache
    const size_t codes_n = static_cast<size_t>(num_blocks * block_size * width);
    const size_t scales_n = static_cast<size_t>(num_blocks * block_size * kv_heads);
    std::vector<uint8_t> want_k(codes_n, 0xAB), want_v(codes_n, 0xAB);
    std::vector<float> want_ks(scales_n, -1.0f), want_vs(scales_n, -1.0f);
    for (int64_t t = 0; t < tokens; ++t) {
      const int64_t s = slots[static_cast<size_t>(t)];
      if (s < 0 || s >= num_blocks * block_size) continue;
      for (int64_t h = 0; h < kv_heads; ++h) {
        std::vector<float> k(static_cast<size_t>(head_dim)), v(static_cast<size_t>(head_dim));
        for (int64_t d = 0; d < head_dim; ++d) {
          const size_t at = static_cast<size_t>(t * src_stride + width + h * head_dim + d);
          k[static_cast<size_t>(d)] = to_float(qkv[at]);
          v[static_cast<size_t>(d)] = to_float(qkv[at + static_cast<size_t>(width)]);
        }
        const size_t row = static_cast<size_t>((s * kv_heads + h) * head_dim);
        const size_t scale = static_cast<size_t>(s * kv_heads + h);
        const auto n = static_cast<size_t>(head_dim);
        want_ks[scale] = engine::quantise_e4m3(k, {want_k.data() + row, n});
        want_vs[scale] = engine::quantise_e4m3(v, {want_v.data() + row, n});
        if (t == 4) {
          EXPECT_EQ(want_k[row + 5], 0x7E); // the outlier is the head's 448
        }
      }
    }
    device_buffer<bf16> dqkv(qkv);
    device_buffer<uint8_t> dk(std::vector<uint8_t>(codes_n, 0xAB));
    device_buffer<uint8_t> dv(std::vector<uint8_t>(codes_n, 0xAB));
    device_buffer<float> dks(std::vector<float>(scales_n, -1.0f));
    device_buffer<float> dvs(std::vector<float>(scales_n, -1.0f));
    device_buffer<int32_t> dslots(slots);
    ASSERT_EQ(cuda::kv_cache_write_fp8(
                  {.k = dqkv.get() + width, .v = dqkv.get() + 2 * width,
                   .k_cache = reinterpret_cast<__nv_fp8_e4m3*>(dk.get()),
                   .v_cache = reinterpret_cast<__nv_fp8_e4m3*>(dv.get()), .k_scales = dks.get(),
                   .v_scales = dvs.get(), .slots = dslots.get(), .tokens = tokens,
                   .kv_heads = kv_heads, .head_dim = head_dim, .src_stride = src_stride,
                   .block_size = block_size, .num_blocks = num_blocks},
                  nullptr),
              cudaSuccess);
    expect_all_bitwise_equal(dk.download(), want_k, "k codes");
    expect_all_bitwise_equal(dv.download(), want_v, "v codes");
    expect_all_bitwise_equal(dks.download(), want_ks, "k scales");
    expect_all_bitwise_equal(dvs.download(), want_vs, "v scales");
  }
}

TEST(cuda_kv_cache_write_fp8, rejects_missing_scales) {
  PM_SKIP_WITHOUT_GPU();
  device_buffer<__nv_bfloat16> x(64);
  device_buffer<uint8_t> codes(64);
  device_buffer<int32_t> slots(2);
  auto* c = reinterpret_cast<__nv_fp8_e4m3*>(codes.get());
  EXPECT_EQ(cuda::kv_cache_write_fp8({.k = x.get(), .v = x.get(), .k_cache = c, .v_cache = c,
                                      .k_scales = nullptr, .v_scales = nullptr,
                                      .slots = slots.get(), .tokens = 2, .kv_heads = 1,
                                      .head_dim = 8, .src_stride = 8, .block_size = 4,
                                      .num_blocks = 1},
                                     nullptr),
            cudaErrorInvalidValue);
}

} // namespace
} // namespace proofmesh::kernels
