// The CUDA RMSNorm against the CPU reference on fresh random bf16 inputs.
// Tolerance: the output is rounded to bf16 (8 bits of mantissa), so each element may differ from
// the float32 reference by half a bf16 ulp of its magnitude, ~2^-8 relative; we allow 1e-2.
#include "kernels/cpu/rms_norm.hpp"
#include "kernels/cuda/rms_norm.cuh"

#include <gtest/gtest.h>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <random>
#include <vector>

namespace proofmesh::kernels {
namespace {

bool has_gpu(std::string* why) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    *why = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    return false;
  }
  return true;
}

TEST(cuda_rms_norm, matches_cpu_reference_with_residual) {
  std::string why;
  if (!has_gpu(&why)) {
    GTEST_SKIP() << "needs a CUDA GPU: " << why;
  }
  const int64_t rows = 37, dim = 1000;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<__nv_bfloat16> x(rows * dim), res(rows * dim), w(dim);
  for (auto* v : {&x, &res, &w}) {
    for (auto& e : *v) {
      e = __float2bfloat16(dist(rng));
    }
  }
  // CPU reference in float32 on the same bf16 values; the residual sum is rounded to bf16 first,
  // as the kernel stores the stream in bf16.
  std::vector<float> xf(rows * dim), wf(dim), ref(rows * dim);
  for (int64_t i = 0; i < rows * dim; ++i) {
    xf[i] = __bfloat162float(__float2bfloat16(__bfloat162float(x[i]) + __bfloat162float(res[i])));
  }
  for (int64_t i = 0; i < dim; ++i) {
    wf[i] = __bfloat162float(w[i]);
  }
  cpu::rms_norm({.x = xf.data(), .residual = nullptr, .weight = wf.data(), .out = ref.data(),
                 .rows = rows, .dim = dim, .row_stride = dim, .eps = 1e-6f});

  __nv_bfloat16 *dx, *dres, *dw, *dout;
  size_t bytes = rows * dim * sizeof(__nv_bfloat16);
  ASSERT_EQ(cudaMalloc(&dx, bytes), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dres, bytes), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dw, dim * sizeof(__nv_bfloat16)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dout, bytes), cudaSuccess);
  ASSERT_EQ(cudaMemset(dout, 0xff, bytes), cudaSuccess); // poison: NaN in bf16
  cudaMemcpy(dx, x.data(), bytes, cudaMemcpyHostToDevice);
  cudaMemcpy(dres, res.data(), bytes, cudaMemcpyHostToDevice);
  cudaMemcpy(dw, w.data(), dim * sizeof(__nv_bfloat16), cudaMemcpyHostToDevice);
  ASSERT_EQ(cuda::rms_norm({.x = dx, .residual = dres, .weight = dw, .out = dout, .rows = rows,
                            .dim = dim, .row_stride = dim, .eps = 1e-6f},
                           nullptr),
            cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  std::vector<__nv_bfloat16> out(rows * dim);
  cudaMemcpy(out.data(), dout, bytes, cudaMemcpyDeviceToHost);
  for (int64_t i = 0; i < rows * dim; ++i) {
    float got = __bfloat162float(out[i]);
    ASSERT_FALSE(std::isnan(got)) << "unwritten element " << i;
    EXPECT_NEAR(got, ref[i], 1e-2f * std::abs(ref[i]) + 1e-3f) << i;
  }
  cudaFree(dx);
  cudaFree(dres);
  cudaFree(dw);
  cudaFree(dout);
}

} // namespace
} // namespace proofmesh::kernels
