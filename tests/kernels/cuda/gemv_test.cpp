// The small-batch GEMV y = x · wᵀ + bias against a float64 loop: bf16 inputs, bf16 or float32
// output, m from 1 to 8, n not a multiple of the 8 features a block computes, k a multiple of 8
// but not of the 256 elements a warp reads per pass. Tolerance as gemm_test: float32 accumulation
// of exact bf16 products, 1e-5 of s = Σ|x·w| + |bias|, plus one output rounding for bf16.
// The launcher must refuse what it cannot serve (k % 8, misaligned x, m outside [1, 8], an x
// too big to stage in shared memory). k = 4104 runs more than one 16-vector batch per lane;
// k = 96 and 264 at 1 and 2 rows take the 8-vector form of rows up to k = 2,048. The streaming
// form runs the same checks at 1 and 2 rows; the gated form (gate_up with its activation) has
// its own reference.
#include "gpu_test_support.hpp"
#include "kernels/cuda/gemv.cuh"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;
using bf16 = __nv_bfloat16;

// x's row i · w's row j over k, in float64, and the sum of the products' magnitudes.
struct dot_product {
  double sum = 0, magnitude = 0;
};
dot_product row_dot(const std::vector<bf16>& x, int64_t i, const std::vector<bf16>& w, int64_t j,
                    int64_t k) {
  dot_product d;
  for (int64_t l = 0; l < k; ++l) {
    const double prod = static_cast<double>(to_float(x[static_cast<size_t>(i * k + l)])) *
                        to_float(w[static_cast<size_t>(j * k + l)]);
    d.sum += prod;
    d.magnitude += std::abs(prod);
  }
  return d;
}

template <typename O>
void run_case(int64_t m, int64_t n, int64_t k, bool with_bias, uint32_t seed,
              cuda::gemv_form form = cuda::gemv_form::automatic) {
  SCOPED_TRACE(std::string("-> ") + type_name(O{}) + " m " + std::to_string(m) + " n " +
               std::to_string(n) + " k " + std::to_string(k) + (with_bias ? " bias" : "") +
               (form == cuda::gemv_form::streaming ? " streaming" : ""));
  std::mt19937 rng(seed);
  std::vector<bf16> x = random_values<bf16>(static_cast<size_t>(m * k), rng);
  std::vector<bf16> w = random_values<bf16>(static_cast<size_t>(n * k), rng, 0.1f);
  std::vector<O> bias = random_values<O>(static_cast<size_t>(n), rng);
  const double rel = std::is_same_v<O, float> ? 0.0 : output_tolerance<O>::rel;
  std::vector<double> ref(static_cast<size_t>(m * n)), tol(ref.size());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const dot_product d = row_dot(x, i, w, j, k);
      double sum = d.sum, mag = d.magnitude;
      if (with_bias) {
        sum += to_float(bias[static_cast<size_t>(j)]);
        mag += std::abs(to_float(bias[static_cast<size_t>(j)]));
      }
      ref[static_cast<size_t>(i * n + j)] = sum;
      tol[static_cast<size_t>(i * n + j)] = 1e-5 * mag + rel * std::abs(sum);
    }
  }
  device_buffer<bf16> dx(x), dw(w);
  device_buffer<O> dbias(bias), dy(static_cast<size_t>(m * n));
  dy.poison();
  ASSERT_EQ(cuda::gemv({.x = dx.get(), .w = dw.get(), .bias = with_bias ? dbias.get() : nullptr,
                        .y = dy.get(), .m = m, .n = n, .k = k,
                        .out_type = std::is_same_v<O, float> ? CUDA_R_32F : CUDA_R_16BF,
                        .form = form},
                       nullptr),
            cudaSuccess);
  expect_all_near(dy.download(), ref, [&](size_t i) { return tol[i]; }, "y");
}

TEST(cuda_gemv, matches_float64_for_every_row_count) {
  PM_SKIP_WITHOUT_GPU();
  uint32_t seed = 1;
  for (int64_t m = 1; m <= 8; ++m) {
    for (auto [n, k] : {std::pair<int64_t, int64_t>{67, 96}, {1001, 264}, {13, 2056}, {9, 4104}}) {
      for (bool bias : {false, true}) {
        run_case<bf16>(m, n, k, bias, seed++);
        run_case<float>(m, n, k, bias, seed++);
      }
    }
  }
}

// The gated form: w stacks [gate; up] (n rows), y is [m, n / 2] of silu(gate) · up. The reference
// takes gate and up in float64; the kernel rounds both to bf16 before the activation (as the
// gate_up product stores them), then rounds the activation: each rounding is allowed as one
// bf16 step (2^-8) of what it rounds, carried through silu's slope, plus the float32 sums' own
// tolerance.
void run_gated_case(int64_t m, int64_t n, int64_t k, uint32_t seed) {
  SCOPED_TRACE("-> gated m " + std::to_string(m) + " n " + std::to_string(n) + " k " +
               std::to_string(k));
  std::mt19937 rng(seed);
  std::vector<bf16> x = random_values<bf16>(static_cast<size_t>(m * k), rng);
  std::vector<bf16> w = random_values<bf16>(static_cast<size_t>(n * k), rng, 0.1f);
  const int64_t half = n / 2;
  std::vector<double> ref(static_cast<size_t>(m * half)), tol(ref.size());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < half; ++j) {
      const dot_product gate = row_dot(x, i, w, j, k), up = row_dot(x, i, w, half + j, k);
      const double g = gate.sum, u = up.sum;
      const double sig = 1.0 / (1.0 + std::exp(-g));
      const double act = g * sig * u;
      const double slope = std::abs(sig * (1.0 + g * (1.0 - sig)) * u); // d act / d gate
      const double dg = std::abs(g) / 256 + 1e-5 * gate.magnitude;
      const double du = std::abs(u) / 256 + 1e-5 * up.magnitude;
      ref[static_cast<size_t>(i * half + j)] = act;
      tol[static_cast<size_t>(i * half + j)] =
          slope * dg + std::abs(g * sig) * du + 2.0 * std::abs(act) / 256 + 1e-6;
    }
  }
  device_buffer<bf16> dx(x), dw(w), dy(static_cast<size_t>(m * half));
  dy.poison();
  ASSERT_EQ(cuda::gemv({.x = dx.get(), .w = dw.get(), .bias = nullptr, .y = dy.get(), .m = m,
                        .n = n, .k = k, .out_type = CUDA_R_16BF, .gated = true},
                       nullptr),
            cudaSuccess);
  expect_all_near(dy.download(), ref, [&](size_t i) { return tol[i]; }, "act");
}

TEST(cuda_gemv, gated_form_writes_silu_of_gate_times_up) {
  PM_SKIP_WITHOUT_GPU();
  uint32_t seed = 300;
  for (int64_t m = 1; m <= cuda::max_gated_gemv_rows; ++m) {
    // The 8-vector form (k <= 2,048), the 16-vector one, and rows of several batches.
    for (auto [n, k] : {std::pair<int64_t, int64_t>{134, 96}, {2002, 2048}, {66, 4104},
                        {512, 14336}}) {
      run_gated_case(m, n, k, seed++);
    }
  }
}

// The streaming form at the engine's 1 and 2 rows: rows of one and of several 4 KB chunks
// (k = 2056 and 4104 span 2 and 3), fewer rows than the resident warps (most warps idle), and
// enough that each warp walks several rows, so chunks of one row follow the last of another.
TEST(cuda_gemv, streaming_form_matches_float64) {
  PM_SKIP_WITHOUT_GPU();
  uint32_t seed = 100;
  for (int64_t m = 1; m <= cuda::max_streaming_gemv_rows; ++m) {
    for (auto [n, k] : {std::pair<int64_t, int64_t>{9, 4104}, {1001, 264}, {5003, 2056},
                        {70001, 96}, {9000, 4104}}) {
      run_case<bf16>(m, n, k, seed % 2 == 0, seed, cuda::gemv_form::streaming);
      ++seed;
      run_case<float>(m, n, k, seed % 2 == 0, seed, cuda::gemv_form::streaming);
      ++seed;
    }
  }
}

TEST(cuda_gemv, refuses_what_it_cannot_serve) {
  PM_SKIP_WITHOUT_GPU();
  device_buffer<bf16> x(std::vector<bf16>(64)), w(std::vector<bf16>(64));
  device_buffer<float> y(std::vector<float>(64));
  auto params = [&](int64_t m, int64_t k, const bf16* xp) {
    return cuda::gemv_params{.x = xp, .w = w.get(), .bias = nullptr, .y = y.get(), .m = m,
                             .n = 2, .k = k, .out_type = CUDA_R_32F};
  };
  EXPECT_TRUE(cuda::gemv_supports(params(1, 16, x.get())));
  EXPECT_FALSE(cuda::gemv_supports(params(1, 12, x.get())));     // k not a multiple of 8
  EXPECT_FALSE(cuda::gemv_supports(params(1, 16, x.get() + 1))); // x not 16-byte aligned
  EXPECT_FALSE(cuda::gemv_supports(params(0, 16, x.get())));
  EXPECT_FALSE(cuda::gemv_supports(params(9, 16, x.get())));
  EXPECT_FALSE(cuda::gemv_supports(params(8, 8192, x.get()))); // x over the 96 KB it stages
  EXPECT_EQ(cuda::gemv(params(9, 16, x.get()), nullptr), cudaErrorInvalidValue);
  cuda::gemv_params three = params(3, 16, x.get());
  EXPECT_TRUE(cuda::gemv_supports(three));
  three.form = cuda::gemv_form::streaming; // serves 1 and 2 rows only
  EXPECT_FALSE(cuda::gemv_supports(three));
  cuda::gemv_params gated = params(1, 16, x.get());
  gated.gated = true;
  EXPECT_FALSE(cuda::gemv_supports(gated)); // float out: the activation is bf16
  gated.out_type = CUDA_R_16BF;
  EXPECT_TRUE(cuda::gemv_supports(gated));
  gated.n = 3; // gate and up rows come in pairs
  EXPECT_FALSE(cuda::gemv_supports(gated));
}

} // namespace
} // namespace proofmesh::kernels
