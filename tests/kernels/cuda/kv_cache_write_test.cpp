// The CUDA paged KV cache write against a plain copy loop, for T = float and bf16: a copy, so the
// check is bitwise over the whole cache. K and V rows sit inside wider fused qkv rows; slots are
// shuffled over the blocks; negative slots and slots past the cache are skipped, and every slot
// not written keeps its previous contents.
#include "gpu_test_support.hpp"
#include "kernels/cuda/kv_cache_write.cuh"

#include <gtest/gtest.h>

#include <algorithm>
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

} // namespace
} // namespace proofmesh::kernels
