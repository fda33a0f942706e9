// The CUDA RoPE against the CPU reference (kernels/cpu/rope), for T = float and bf16, on heads
// inside a wider fused qkv row (the gaps must stay untouched), with positions up to 140000 where
// a fast sine would be visibly wrong, and with plain and llama3-scaled frequencies.
// Tolerances, per element, against |a| + |b| of the rotated pair (the output can cancel to near
// zero): float: precise sincosf and the CPU's cosf/sinf are each within ~2 ulps of the exact
// value, so 1e-5 of |a| + |b| is generous yet 100x below what __sinf would give at 1e5; bf16:
// plus one rounding of the output, output_tolerance<bf16> of the value.
#include "gpu_test_support.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cuda/rope.cuh"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_rope : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_rope, element_types, type_names);

template <typename T>
void run_case(int64_t tokens, int64_t heads, int64_t head_dim, int64_t token_stride, bool llama3,
              uint32_t seed) {
  SCOPED_TRACE("tokens " + std::to_string(tokens) + " heads " + std::to_string(heads) +
               " head_dim " + std::to_string(head_dim) + " stride " +
               std::to_string(token_stride) + (llama3 ? " llama3" : ""));
  std::mt19937 rng(seed);
  const size_t n = static_cast<size_t>(tokens * token_stride);
  std::vector<T> x = random_values<T>(n, rng);
  std::uniform_int_distribution<int32_t> pick(0, 140000);
  std::vector<int32_t> pos(static_cast<size_t>(tokens));
  for (auto& p : pos) {
    p = pick(rng);
  }
  pos[0] = 0;
  if (tokens > 1) {
    pos[1] = 131071;
  }
  std::vector<float> inv_freq = cpu::rope_inv_freq(
      {.head_dim = head_dim, .theta = llama3 ? 500000.0 : 1000000.0,
       .scaling = llama3 ? cpu::rope_scaling::rope_scaling_llama3 : cpu::rope_scaling::rope_scaling_none,
       .factor = 8.0, .original_max_position = 8192.0, .low_freq_factor = 1.0,
       .high_freq_factor = 4.0});

  std::vector<float> ref = to_floats(x);
  std::vector<int64_t> pos64(pos.begin(), pos.end());
  cpu::rope({.x = ref.data(), .positions = pos64.data(), .inv_freq = inv_freq.data(),
             .tokens = tokens, .heads = heads, .head_dim = head_dim,
             .head_stride = head_dim, .token_stride = token_stride});
  // Tolerance scale per element: |a| + |b| of its pair; gaps must be bitwise untouched.
  const double rel = output_tolerance<T>::rel;
  std::vector<double> tol(n, 0.0);
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < half; ++i) {
        const size_t a = static_cast<size_t>(t * token_stride + h * head_dim + i);
        const size_t b = a + static_cast<size_t>(half);
        const double pair = std::abs(to_float(x[a])) + std::abs(to_float(x[b]));
        tol[a] = 1e-5 * pair + rel * std::abs(ref[a]);
        tol[b] = 1e-5 * pair + rel * std::abs(ref[b]);
      }
    }
  }

  device_buffer<T> dx(x);
  device_buffer<int32_t> dpos(pos);
  device_buffer<float> dfreq(inv_freq);
  ASSERT_EQ(cuda::rope<T>({.x = dx.get(), .positions = dpos.get(), .inv_freq = dfreq.get(),
                           .tokens = tokens, .heads = heads, .head_dim = head_dim,
                           .token_stride = token_stride},
                          nullptr),
            cudaSuccess);
  expect_all_near(dx.download(), ref, [&](size_t i) { return tol[i]; }, "rotated x");
}

TYPED_TEST(cuda_rope, matches_cpu_reference) {
  PM_SKIP_WITHOUT_GPU();
  // q of 14 heads inside a qkv row of 14 + 2 + 2 heads (head_dim 64), k of 2 heads likewise.
  run_case<TypeParam>(37, 14, 64, 18 * 64, false, 1);
  run_case<TypeParam>(37, 2, 64, 18 * 64, false, 2);
  run_case<TypeParam>(9, 32, 128, 48 * 128, true, 3);
  run_case<TypeParam>(5, 3, 16, 3 * 16, false, 4);
  run_case<TypeParam>(4, 2, 8, 40, false, 5);
  run_case<TypeParam>(2, 4, 256, 4 * 256 + 2, true, 6);
}

TYPED_TEST(cuda_rope, rejects_nonsense_sizes) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  device_buffer<T> buf(64);
  device_buffer<int32_t> pos(4);
  device_buffer<float> freq(32);
  EXPECT_EQ(cuda::rope<T>({.x = buf.get(), .positions = pos.get(), .inv_freq = freq.get(),
                           .tokens = 2, .heads = 1, .head_dim = 7, .token_stride = 8},
                          nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rope<T>({.x = buf.get(), .positions = pos.get(), .inv_freq = freq.get(),
                           .tokens = 2, .heads = 2, .head_dim = 8, .token_stride = 8},
                          nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rope<T>({.x = buf.get(), .positions = pos.get(), .inv_freq = freq.get(),
                           .tokens = 2, .heads = 1, .head_dim = 2048, .token_stride = 2048},
                          nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rope<T>({.x = nullptr, .positions = nullptr, .inv_freq = nullptr,
                           .tokens = 0, .heads = 1, .head_dim = 8, .token_stride = 8},
                          nullptr),
            cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
