// The cuBLASLt GEMM y = x · wᵀ + bias against a float64 loop, for the three type pairs the model
// runner uses: bf16 → bf16 (layers), bf16 → f32 (logits) and f32 → f32 (the exactness path).
// Sizes: m in {1, 7, 64}, n and k not multiples of the tile sizes (odd k included), with and
// without bias. Tolerances, per element, against s = Σ|x·w| + |bias| (the scale of the sum, which
// may cancel to near zero): float32 accumulation of k products whose bf16 or f32 inputs
// multiply exactly or to 1 ulp: ~sqrt(k)·6e-8·s, so 1e-5·s; a bf16 output adds one rounding,
// output_tolerance<bf16> of the value. A separate test proves the f32 path is not TF32.
#include "gpu_test_support.hpp"
#include "kernels/cuda/gemm.cuh"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
constexpr cudaDataType_t data_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_16BF;
}

class cuda_gemm : public ::testing::Test {
protected:
  void SetUp() override {
    PM_SKIP_WITHOUT_GPU();
    ASSERT_EQ(cuda::gemm_handle_create(handle_), cudaSuccess);
  }
  void TearDown() override {
    if (handle_.lt != nullptr) {
      EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      EXPECT_EQ(cuda::gemm_handle_destroy(handle_), cudaSuccess);
    }
  }

  // Runs one product. x_offset shifts x inside its buffer (elements), to give it a weaker
  // alignment than cudaMalloc's 256 bytes.
  template <typename A, typename O>
  void run_case(int64_t m, int64_t n, int64_t k, bool with_bias, uint32_t seed,
                int64_t x_offset = 0) {
    SCOPED_TRACE(std::string(type_name(A{})) + " -> " + type_name(O{}) + " m " +
                 std::to_string(m) + " n " + std::to_string(n) + " k " + std::to_string(k) +
                 (with_bias ? " bias" : "") + " x offset " + std::to_string(x_offset));
    std::mt19937 rng(seed);
    std::vector<A> x = random_values<A>(static_cast<size_t>(m * k + x_offset), rng);
    std::vector<A> w = random_values<A>(static_cast<size_t>(n * k), rng, 0.1f);
    std::vector<O> bias = random_values<O>(static_cast<size_t>(n), rng);
    std::vector<double> ref(static_cast<size_t>(m * n)), tol(ref.size());
    const double rel = std::is_same_v<O, float> ? 0.0 : output_tolerance<O>::rel;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, mag = 0;
        for (int64_t l = 0; l < k; ++l) {
          const double prod =
              static_cast<double>(to_float(x[static_cast<size_t>(x_offset + i * k + l)])) *
              to_float(w[static_cast<size_t>(j * k + l)]);
          sum += prod;
          mag += std::abs(prod);
        }
        // cuBLASLt's BIAS epilogue rounds the product to the output type before adding the bias
        // (seen on an H200: bf16 outputs off by half an ulp of the product, not of the sum), so
        // a bf16 result may carry one rounding of the product as well as one of the sum.
        double product_rounding = 0;
        if (with_bias) {
          const double b = to_float(bias[static_cast<size_t>(j)]);
          product_rounding = rel * std::abs(sum);
          sum += b;
          mag += std::abs(b);
        }
        ref[static_cast<size_t>(i * n + j)] = sum;
        tol[static_cast<size_t>(i * n + j)] = 1e-5 * mag + rel * std::abs(sum) + product_rounding;
      }
    }
    device_buffer<A> dx(x), dw(w);
    device_buffer<O> dbias(bias), dy(static_cast<size_t>(m * n));
    dy.poison();
    ASSERT_EQ(cuda::gemm(handle_,
                         {.x = dx.get() + x_offset, .w = dw.get(),
                          .bias = with_bias ? dbias.get() : nullptr, .y = dy.get(), .m = m,
                          .n = n, .k = k, .a_type = data_type<A>(), .out_type = data_type<O>()},
                         nullptr),
              cudaSuccess);
    expect_all_near(dy.download(), ref, [&](size_t i) { return tol[i]; }, "y");
  }

  template <typename A, typename O>
  void run_all_sizes(uint32_t seed) {
    for (int64_t m : {1, 7, 64}) {
      for (auto [n, k] : {std::pair<int64_t, int64_t>{67, 96}, {130, 77}, {1000, 264}}) {
        for (bool bias : {false, true}) {
          run_case<A, O>(m, n, k, bias, seed++);
        }
      }
    }
  }

  cuda::gemm_handle handle_{};
};

TEST_F(cuda_gemm, bf16_to_bf16) { run_all_sizes<__nv_bfloat16, __nv_bfloat16>(100); }

TEST_F(cuda_gemm, bf16_to_f32) { run_all_sizes<__nv_bfloat16, float>(200); }

TEST_F(cuda_gemm, f32_to_f32) { run_all_sizes<float, float>(300); }

TEST_F(cuda_gemm, cached_algorithm_respects_weaker_alignment) {
  // Same shape twice: first with a 256-byte aligned x, then x 16 bytes off (8 bf16, 4 floats);
  // the second call must not reuse an algorithm that assumed 256-byte alignment.
  run_case<__nv_bfloat16, __nv_bfloat16>(7, 130, 264, true, 400);
  run_case<__nv_bfloat16, __nv_bfloat16>(7, 130, 264, true, 401, 8);
  run_case<float, float>(7, 130, 264, true, 402);
  run_case<float, float>(7, 130, 264, true, 403, 4);
}

TEST_F(cuda_gemm, f32_path_is_true_fp32_not_tf32) {
  // x rows alternate 1 + 2^-12 and -1, w is all ones: y = (k/2) · 2^-12 exactly in float32 (every
  // partial sum is exact), while TF32's 10-bit mantissa rounds 1 + 2^-12 to 1 and gives 0.
  const int64_t m = 3, n = 5, k = 64;
  std::vector<float> x(static_cast<size_t>(m * k)), w(static_cast<size_t>(n * k), 1.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = i % 2 == 0 ? 1.0f + std::ldexp(1.0f, -12) : -1.0f;
  }
  device_buffer<float> dx(x), dw(w), dy(static_cast<size_t>(m * n));
  dy.poison();
  ASSERT_EQ(cuda::gemm(handle_,
                       {.x = dx.get(), .w = dw.get(), .bias = nullptr, .y = dy.get(), .m = m,
                        .n = n, .k = k, .a_type = CUDA_R_32F, .out_type = CUDA_R_32F},
                       nullptr),
            cudaSuccess);
  for (float v : dy.download()) {
    EXPECT_EQ(v, std::ldexp(32.0f, -12));
  }
}

// MLA's per-head projections: `heads` problems over interleaved rows. x is [m, heads, k + pad]
// (each head's k values, pad more after), w stacks the heads' matrices with a gap between them,
// y is [m, heads, n] inside rows of heads · n + 3. Both w layouts: [n, k] (x · wᵀ) and [k, n]
// (x · w). The tolerance is run_case's.
template <typename A, typename O>
void strided_batch_case(cuda::gemm_handle& handle, bool w_kn, uint32_t seed) {
  SCOPED_TRACE(std::string(type_name(A{})) + (w_kn ? " w [k, n]" : " w [n, k]"));
  const int64_t m = 9, n = 40, k = 24, heads = 5, pad = 8, gap = 16;
  const int64_t x_ld = heads * (k + pad), w_batch = n * k + gap, y_ld = heads * n + 3;
  std::mt19937 rng(seed);
  std::vector<A> x = random_values<A>(static_cast<size_t>(m * x_ld), rng);
  std::vector<A> w = random_values<A>(static_cast<size_t>(heads * w_batch), rng, 0.1f);
  std::vector<double> ref(static_cast<size_t>(m * y_ld)), tol(ref.size());
  const double rel = std::is_same_v<O, float> ? 0.0 : output_tolerance<O>::rel;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, mag = 0;
        for (int64_t l = 0; l < k; ++l) {
          const int64_t wi = h * w_batch + (w_kn ? l * n + j : j * k + l);
          const double prod =
              static_cast<double>(to_float(x[static_cast<size_t>(i * x_ld + h * (k + pad) + l)])) *
              to_float(w[static_cast<size_t>(wi)]);
          sum += prod;
          mag += std::abs(prod);
        }
        ref[static_cast<size_t>(i * y_ld + h * n + j)] = sum;
        tol[static_cast<size_t>(i * y_ld + h * n + j)] = 1e-5 * mag + rel * std::abs(sum);
      }
    }
  }
  device_buffer<A> dx(x), dw(w);
  device_buffer<O> dy(ref.size());
  dy.poison();
  ASSERT_EQ(cuda::gemm(handle,
                       {.x = dx.get(), .w = dw.get(), .bias = nullptr, .y = dy.get(), .m = m,
                        .n = n, .k = k, .a_type = data_type<A>(), .out_type = data_type<O>(),
                        .x_ld = x_ld, .y_ld = y_ld, .w_kn = w_kn, .batch = heads,
                        .x_batch = k + pad, .w_batch = w_batch, .y_batch = n},
                       nullptr),
            cudaSuccess);
  std::vector<O> y = dy.download();
  for (int64_t i = 0; i < m; ++i) { // the columns past each row's heads · n stay untouched
    for (int64_t j = heads * n; j < y_ld; ++j) {
      const auto at = static_cast<size_t>(i * y_ld + j);
      ASSERT_TRUE(std::isnan(to_float(y[at])));
      y[at] = O{};
    }
  }
  expect_all_near(y, ref, [&](size_t i) { return tol[i]; }, "y");
}

TEST_F(cuda_gemm, strided_batches_over_interleaved_rows) {
  for (bool w_kn : {false, true}) {
    strided_batch_case<__nv_bfloat16, __nv_bfloat16>(handle_, w_kn, 500);
    strided_batch_case<__nv_bfloat16, float>(handle_, w_kn, 510);
    strided_batch_case<float, float>(handle_, w_kn, 520);
  }
}

TEST_F(cuda_gemm, rejects_nonsense) {
  device_buffer<float> buf(64);
  auto call = [&](int64_t m, int64_t n, int64_t k, cudaDataType_t a, cudaDataType_t o) {
    return cuda::gemm(handle_, {.x = buf.get(), .w = buf.get(), .bias = nullptr, .y = buf.get(),
                                .m = m, .n = n, .k = k, .a_type = a, .out_type = o},
                      nullptr);
  };
  EXPECT_EQ(call(-1, 4, 4, CUDA_R_32F, CUDA_R_32F), cudaErrorInvalidValue);
  EXPECT_EQ(call(2, 0, 4, CUDA_R_32F, CUDA_R_32F), cudaErrorInvalidValue);
  EXPECT_EQ(call(2, 4, 4, CUDA_R_32F, CUDA_R_16BF), cudaErrorInvalidValue);
  EXPECT_EQ(call(2, 4, 4, CUDA_R_16F, CUDA_R_16F), cudaErrorInvalidValue);
  EXPECT_EQ(call(0, 4, 4, CUDA_R_32F, CUDA_R_32F), cudaSuccess);
  auto strided = [&](int64_t x_ld, int64_t y_ld, int64_t batch, int64_t stride, bool bias) {
    return cuda::gemm(handle_, {.x = buf.get(), .w = buf.get(), .bias = bias ? buf.get() : nullptr,
                                .y = buf.get(), .m = 2, .n = 4, .k = 4, .a_type = CUDA_R_32F,
                                .out_type = CUDA_R_32F, .x_ld = x_ld, .y_ld = y_ld,
                                .batch = batch, .x_batch = stride},
                      nullptr);
  };
  EXPECT_EQ(strided(3, 0, 1, 0, false), cudaErrorInvalidValue); // a row stride below k
  EXPECT_EQ(strided(0, 3, 1, 0, false), cudaErrorInvalidValue); // below n
  EXPECT_EQ(strided(0, 0, 0, 0, false), cudaErrorInvalidValue); // no batch
  EXPECT_EQ(strided(0, 0, 2, -1, false), cudaErrorInvalidValue);
  EXPECT_EQ(strided(0, 0, 2, 8, true), cudaErrorInvalidValue);  // a bias over batches
  cuda::gemm_handle empty{};
  EXPECT_EQ(cuda::gemm(empty, {.x = buf.get(), .w = buf.get(), .bias = nullptr, .y = buf.get(),
                               .m = 2, .n = 4, .k = 4, .a_type = CUDA_R_32F,
                               .out_type = CUDA_R_32F},
                       nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::gemm_handle_destroy(empty), cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
