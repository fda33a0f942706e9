// The CUDA silu_mul against the CPU reference (kernels/cpu/silu_mul) on the fused gate_up rows,
// for T = float and bf16, on both access widths (inter a multiple of 8, and not).
// Tolerances: float: expf differs from the CPU's by a couple of ulps, ~1e-6 relative, within
// output_tolerance<float>; bf16: one rounding of the float result, output_tolerance<bf16>.
// Inputs reach |g| = 20 so that the saturated ends of silu are exercised.
#include "gpu_test_support.hpp"
#include "kernels/cpu/silu_mul.hpp"
#include "kernels/cuda/silu_mul.cuh"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_silu_mul : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_silu_mul, element_types, type_names);

template <typename T>
void run_case(int64_t tokens, int64_t inter, uint32_t seed) {
  SCOPED_TRACE("tokens " + std::to_string(tokens) + " inter " + std::to_string(inter));
  std::mt19937 rng(seed);
  std::vector<T> gate_up = random_values<T>(static_cast<size_t>(tokens * 2 * inter), rng, 4.0f);
  gate_up[0] = from_float<T>(20.0f);
  gate_up[1 % inter] = from_float<T>(-20.0f);
  std::vector<float> gu = to_floats(gate_up);
  std::vector<float> ref(static_cast<size_t>(tokens * inter));
  for (int64_t t = 0; t < tokens; ++t) {
    const float* g = gu.data() + t * 2 * inter;
    cpu::silu_mul({.gate = g, .up = g + inter, .out = ref.data() + t * inter, .n = inter});
  }
  device_buffer<T> din(gate_up), dout(ref.size());
  dout.poison();
  ASSERT_EQ(cuda::silu_mul<T>({.gate_up = din.get(), .out = dout.get(), .tokens = tokens,
                               .inter = inter},
                              nullptr),
            cudaSuccess);
  const double rel = output_tolerance<T>::rel;
  expect_all_near(dout.download(), ref,
                  [&](size_t i) { return rel * std::abs(ref[i]) + 1e-7; }, "silu(gate) * up");
}

TYPED_TEST(cuda_silu_mul, matches_cpu_reference) {
  PM_SKIP_WITHOUT_GPU();
  run_case<TypeParam>(37, 4864, 1); // vector path, several passes per block
  run_case<TypeParam>(5, 1001, 2);  // scalar path
  run_case<TypeParam>(300, 24, 3);  // tiny rows
  run_case<TypeParam>(1, 3, 4);
}

TYPED_TEST(cuda_silu_mul, rejects_nonsense_sizes) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  device_buffer<T> buf(64);
  EXPECT_EQ(cuda::silu_mul<T>({.gate_up = buf.get(), .out = buf.get(), .tokens = 2, .inter = 0},
                              nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::silu_mul<T>({.gate_up = nullptr, .out = buf.get(), .tokens = 2, .inter = 8},
                              nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::silu_mul<T>({.gate_up = nullptr, .out = nullptr, .tokens = 0, .inter = 8},
                              nullptr),
            cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
