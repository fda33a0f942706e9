// The CUDA RMSNorm against the CPU reference (kernels/cpu/rms_norm) on fresh random inputs, for
// T = float and bf16: with and without the residual, out aliasing x, QK-norm sub-rows inside a
// wider row, dims on both launch shapes (warp per row up to 1024, block per row above) and on
// both access widths (16-byte vectors, scalars for dims that are not multiples of 8).
// Tolerances: output_tolerance<T> (gpu_test_support.hpp) relative, plus 1e-6 absolute for values
// near zero. The stored x + residual must be bitwise what the CPU gets by rounding the same float
// sum to T, and elements outside the normalised sub-rows must be untouched.
#include "gpu_test_support.hpp"
#include "kernels/cpu/rms_norm.hpp"
#include "kernels/cuda/rms_norm.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_rms_norm : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_rms_norm, element_types, type_names);

struct norm_case {
  int64_t rows;
  int64_t heads_per_row;
  int64_t dim;
  int64_t row_stride;
  bool residual;
  bool in_place; // out == x
};

template <typename T>
void run_case(const norm_case& c, uint32_t seed) {
  const std::string what = "rows " + std::to_string(c.rows) + " heads " +
                           std::to_string(c.heads_per_row) + " dim " + std::to_string(c.dim) +
                           " stride " + std::to_string(c.row_stride) +
                           (c.residual ? " residual" : "") + (c.in_place ? " in place" : "");
  SCOPED_TRACE(what);
  std::mt19937 rng(seed);
  const size_t n = static_cast<size_t>(
      std::max(c.rows * c.row_stride, (c.rows - 1) * c.row_stride + c.heads_per_row * c.dim));
  std::vector<T> x = random_values<T>(n, rng);
  std::vector<T> res = random_values<T>(n, rng);
  // Weights near 1 as in trained models, but not 1, so a skipped multiply shows.
  std::vector<T> w = random_values<T>(static_cast<size_t>(c.dim), rng, 0.2f, 1.0f);
  const float eps = 1e-6f;

  // Reference: per sub-row, x_stored = T(x + res) then cpu::rms_norm on the float values.
  std::vector<T> want_x = x;
  std::vector<float> ref_out(n, 0.0f);
  std::vector<bool> in_row(n, false);
  std::vector<float> wf = to_floats(w);
  for (int64_t r = 0; r < c.rows * c.heads_per_row; ++r) {
    const int64_t off = (r / c.heads_per_row) * c.row_stride + (r % c.heads_per_row) * c.dim;
    std::vector<float> row(static_cast<size_t>(c.dim)), out(static_cast<size_t>(c.dim));
    for (int64_t i = 0; i < c.dim; ++i) {
      const size_t e = static_cast<size_t>(off + i);
      in_row[e] = true;
      if (c.residual) {
        want_x[e] = from_float<T>(to_float(x[e]) + to_float(res[e]));
      }
      row[static_cast<size_t>(i)] = to_float(want_x[e]);
    }
    cpu::rms_norm({.x = row.data(), .residual = nullptr, .weight = wf.data(), .out = out.data(),
                   .rows = 1, .dim = c.dim, .row_stride = c.dim, .eps = eps});
    for (int64_t i = 0; i < c.dim; ++i) {
      ref_out[static_cast<size_t>(off + i)] = out[static_cast<size_t>(i)];
    }
  }

  device_buffer<T> dx(x), dres(res), dw(w), dout(n);
  dout.poison();
  ASSERT_EQ(cuda::rms_norm<T>({.x = dx.get(), .residual = c.residual ? dres.get() : nullptr,
                               .weight = dw.get(), .out = c.in_place ? dx.get() : dout.get(),
                               .rows = c.rows, .dim = c.dim, .row_stride = c.row_stride,
                               .eps = eps, .heads_per_row = c.heads_per_row},
                              nullptr),
            cudaSuccess);
  std::vector<T> got_x = dx.download();
  std::vector<T> got_out = c.in_place ? got_x : dout.download();

  // Inside the sub-rows: out against the reference. Outside: x untouched (the residual add too
  // stays inside the sub-rows). Without aliasing, x must be bitwise the CPU's rounding of the
  // same sums.
  std::vector<T> got_rows, got_gaps, want_gaps;
  std::vector<float> want_rows;
  for (size_t e = 0; e < n; ++e) {
    if (in_row[e]) {
      got_rows.push_back(got_out[e]);
      want_rows.push_back(ref_out[e]);
    } else {
      got_gaps.push_back(got_x[e]);
      want_gaps.push_back(want_x[e]);
    }
  }
  const double rel = output_tolerance<T>::rel;
  expect_all_near(got_rows, want_rows,
                  [&](size_t i) { return rel * std::abs(want_rows[i]) + 1e-6; }, "out");
  expect_all_bitwise_equal(got_gaps, want_gaps, "x outside the normalised sub-rows");
  if (!c.in_place) {
    expect_all_bitwise_equal(got_x, want_x, "x after the residual add");
  }
}

TYPED_TEST(cuda_rms_norm, hidden_rows_with_residual) {
  PM_SKIP_WITHOUT_GPU();
  // Warp-per-row shape: vector (1000) and scalar (77) access; 37 rows leave the last block
  // partly idle.
  run_case<TypeParam>({.rows = 37, .heads_per_row = 1, .dim = 1000, .row_stride = 1000,
                       .residual = true, .in_place = false}, 1);
  run_case<TypeParam>({.rows = 37, .heads_per_row = 1, .dim = 77, .row_stride = 77,
                       .residual = true, .in_place = false}, 2);
  // Block-per-row shape: vector (4096) and scalar (2050) access, strided rows.
  run_case<TypeParam>({.rows = 9, .heads_per_row = 1, .dim = 4096, .row_stride = 4096 + 64,
                       .residual = true, .in_place = false}, 3);
  run_case<TypeParam>({.rows = 5, .heads_per_row = 1, .dim = 2050, .row_stride = 2051,
                       .residual = true, .in_place = false}, 4);
}

TYPED_TEST(cuda_rms_norm, without_residual) {
  PM_SKIP_WITHOUT_GPU();
  run_case<TypeParam>({.rows = 13, .heads_per_row = 1, .dim = 896, .row_stride = 896,
                       .residual = false, .in_place = false}, 5);
  run_case<TypeParam>({.rows = 3, .heads_per_row = 1, .dim = 3000, .row_stride = 3000,
                       .residual = false, .in_place = false}, 6);
}

TYPED_TEST(cuda_rms_norm, out_aliases_x) {
  PM_SKIP_WITHOUT_GPU();
  run_case<TypeParam>({.rows = 11, .heads_per_row = 1, .dim = 1024, .row_stride = 1024,
                       .residual = false, .in_place = true}, 7);
  run_case<TypeParam>({.rows = 4, .heads_per_row = 1, .dim = 5000, .row_stride = 5000,
                       .residual = false, .in_place = true}, 8);
  // With a residual too: x is rewritten twice by the same thread.
  run_case<TypeParam>({.rows = 6, .heads_per_row = 1, .dim = 1536, .row_stride = 1536,
                       .residual = true, .in_place = true}, 9);
}

TYPED_TEST(cuda_rms_norm, qk_norm_heads_inside_fused_qkv_rows) {
  PM_SKIP_WITHOUT_GPU();
  // q of 5 heads at the start of a qkv row of (5 + 2 + 2) heads, as the runner calls it; the k
  // and v parts must stay untouched. head_dim 128 (vector), 16 (vector, several rows per warp's
  // worth of work) and 6 (scalar).
  for (int64_t hd : {128, 16, 6}) {
    run_case<TypeParam>({.rows = 7, .heads_per_row = 5, .dim = hd, .row_stride = 9 * hd,
                         .residual = false, .in_place = true}, 10 + static_cast<uint32_t>(hd));
  }
  // One outer row only: row_stride is not used.
  run_case<TypeParam>({.rows = 1, .heads_per_row = 3, .dim = 64, .row_stride = 0,
                       .residual = false, .in_place = true}, 11);
}

TYPED_TEST(cuda_rms_norm, rejects_nonsense_sizes) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  device_buffer<T> buf(64);
  T* b = buf.get();
  EXPECT_EQ(cuda::rms_norm<T>({.x = b, .residual = nullptr, .weight = b, .out = b, .rows = -1,
                               .dim = 8, .row_stride = 8, .eps = 1e-6f}, nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rms_norm<T>({.x = b, .residual = nullptr, .weight = b, .out = b, .rows = 2,
                               .dim = 0, .row_stride = 8, .eps = 1e-6f}, nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rms_norm<T>({.x = b, .residual = nullptr, .weight = b, .out = b, .rows = 2,
                               .dim = 8, .row_stride = 4, .eps = 1e-6f}, nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rms_norm<T>({.x = b, .residual = nullptr, .weight = b, .out = b, .rows = 2,
                               .dim = 8, .row_stride = 16, .eps = 1e-6f, .heads_per_row = 3},
                              nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rms_norm<T>({.x = nullptr, .residual = nullptr, .weight = b, .out = b,
                               .rows = 2, .dim = 8, .row_stride = 8, .eps = 1e-6f}, nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::rms_norm<T>({.x = nullptr, .residual = nullptr, .weight = nullptr,
                               .out = nullptr, .rows = 0, .dim = 8, .row_stride = 8,
                               .eps = 1e-6f}, nullptr),
            cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
