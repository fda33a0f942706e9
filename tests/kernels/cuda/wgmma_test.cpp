// wgmma's two products as the prefill attention kernel issues them (tests/kernels/cuda/
// wgmma_probe.cu: one warpgroup, A from registers, B from a stage laid out as the kernel lays
// its K and V tiles), against a float64 product: the scores S = Q Kᵀ (B K-major) over 64 and 128
// dims, and O = P V (B MN-major) at 128 dims, the kernel's head_dim 128 path, and at 64, the
// instruction head_dim 64's prefill would add (m64n64k16 with B MN-major, exactly one swizzle
// atom wide), whose kernel tests failed when it ran inside the kernel. Run alone, each product
// either matches or names the one that does not, with the descriptor's LBO as the kernel sets it.
// bf16 products are exact in float32; the tolerance is float32 accumulation's, 1e-5 of Σ|a·b|.
#include "gpu_test_support.hpp"
#include "tests/kernels/cuda/wgmma_probe.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;
using bf16 = __nv_bfloat16;

bool has_wgmma() {
  int device = 0, major = 0;
  return cudaGetDevice(&device) == cudaSuccess &&
         cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) ==
             cudaSuccess &&
         major == 9;
}

void run_product(int width, int trans_b, uint32_t lbo, uint32_t seed) {
  SCOPED_TRACE("width " + std::to_string(width) + (trans_b ? " P V" : " Q K^T") + " lbo " +
               std::to_string(lbo));
  constexpr int rows = 64;
  const int k = trans_b ? rows : width, n = trans_b ? width : rows;
  std::mt19937 rng(seed);
  std::vector<bf16> a = random_values<bf16>(static_cast<size_t>(rows * k), rng);
  std::vector<bf16> b = random_values<bf16>(static_cast<size_t>(rows * width), rng);
  std::vector<double> ref(static_cast<size_t>(rows * n)), tol(ref.size());
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0, mag = 0;
      for (int l = 0; l < k; ++l) {
        // trans_b 0: b's row j is key j (columns: the k dims); 1: b's row l is key l.
        const float bv = trans_b ? to_float(b[static_cast<size_t>(l * width + j)])
                                 : to_float(b[static_cast<size_t>(j * width + l)]);
        const double prod = static_cast<double>(to_float(a[static_cast<size_t>(i * k + l)])) * bv;
        sum += prod;
        mag += std::abs(prod);
      }
      ref[static_cast<size_t>(i * n + j)] = sum;
      tol[static_cast<size_t>(i * n + j)] = 1e-5 * mag + 1e-6;
    }
  }
  device_buffer<bf16> da(a), db(b);
  device_buffer<float> dd(static_cast<size_t>(rows * n));
  dd.poison();
  ASSERT_EQ(wgmma_probe({.a = da.get(), .b = db.get(), .d = dd.get(), .width = width,
                         .trans_b = trans_b, .lbo = lbo}),
            cudaSuccess);
  expect_all_near(dd.download(), ref, [&](size_t i) { return tol[i]; }, "d");
}

TEST(cuda_wgmma, scores_and_values_match_float64_as_the_prefill_kernel_issues_them) {
  PM_SKIP_WITHOUT_GPU();
  if (!has_wgmma()) {
    GTEST_SKIP() << "wgmma needs an sm_90 GPU";
  }
  run_product(64, 0, 16, 1);   // S at head_dim 64
  run_product(128, 0, 16, 2);  // S at head_dim 128 (two slabs)
  run_product(128, 1, 8192, 3); // P V at head_dim 128: the second slab 64 rows x 128 B on
  run_product(64, 1, 8192, 4);  // P V at head_dim 64: one atom wide, LBO as the kernel sets it
}

} // namespace
} // namespace proofmesh::kernels
