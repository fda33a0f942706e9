// The CUDA row gather against a plain copy loop, for T = float and bf16: a copy, so the check is
// bitwise. Covers repeated and out-of-order ids, out-of-range ids (zeros, no read), a table
// stride wider than the row, and both access widths (16-byte vectors; scalars when dim or the
// stride is not a multiple of the vector).
#include "gpu_test_support.hpp"
#include "kernels/cuda/gather_rows.cuh"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_gather_rows : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_gather_rows, element_types, type_names);

template <typename T>
void run_case(int64_t num_rows, int64_t dim, int64_t table_stride, int64_t count, uint32_t seed) {
  SCOPED_TRACE("rows " + std::to_string(num_rows) + " dim " + std::to_string(dim) + " stride " +
               std::to_string(table_stride) + " count " + std::to_string(count));
  std::mt19937 rng(seed);
  std::vector<T> table = random_values<T>(static_cast<size_t>(num_rows * table_stride), rng);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(num_rows - 1));
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (auto& id : ids) {
    id = pick(rng);
  }
  // Out-of-range ids on both sides, and a repeat.
  ids[0] = -1;
  ids[static_cast<size_t>(count) / 2] = static_cast<int32_t>(num_rows);
  ids[static_cast<size_t>(count) - 1] = ids[1];

  std::vector<T> want(static_cast<size_t>(count * dim));
  for (int64_t r = 0; r < count; ++r) {
    const int32_t id = ids[static_cast<size_t>(r)];
    for (int64_t i = 0; i < dim; ++i) {
      want[static_cast<size_t>(r * dim + i)] =
          id >= 0 && id < num_rows ? table[static_cast<size_t>(id * table_stride + i)]
                                   : from_float<T>(0.0f);
    }
  }
  device_buffer<T> dtable(table), dout(static_cast<size_t>(count * dim));
  device_buffer<int32_t> dids(ids);
  dout.poison();
  ASSERT_EQ(cuda::gather_rows<T>({.table = dtable.get(), .ids = dids.get(), .out = dout.get(),
                                  .count = count, .dim = dim, .table_stride = table_stride,
                                  .num_rows = num_rows},
                                 nullptr),
            cudaSuccess);
  expect_all_bitwise_equal(dout.download(), want, "gathered rows");
}

TYPED_TEST(cuda_gather_rows, copies_rows_and_zeros_bad_ids) {
  PM_SKIP_WITHOUT_GPU();
  run_case<TypeParam>(1000, 896, 896, 37, 1);    // embedding: vector path
  run_case<TypeParam>(50, 1000, 1016, 5, 2);     // strided table, vector path, dim % 128 != 0
  run_case<TypeParam>(300, 77, 77, 129, 3);      // scalar path
  run_case<TypeParam>(20, 4104, 4107, 3, 4);     // scalar path (odd stride), dim > block
  run_case<TypeParam>(8, 8, 8, 300, 5);          // tiny rows, many of them
}

TYPED_TEST(cuda_gather_rows, rejects_nonsense_sizes) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  device_buffer<T> buf(64);
  device_buffer<int32_t> ids(4);
  EXPECT_EQ(cuda::gather_rows<T>({.table = buf.get(), .ids = ids.get(), .out = buf.get(),
                                  .count = -1, .dim = 8, .table_stride = 8, .num_rows = 8},
                                 nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::gather_rows<T>({.table = buf.get(), .ids = ids.get(), .out = buf.get(),
                                  .count = 2, .dim = 8, .table_stride = 4, .num_rows = 8},
                                 nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::gather_rows<T>({.table = buf.get(), .ids = nullptr, .out = buf.get(),
                                  .count = 2, .dim = 8, .table_stride = 8, .num_rows = 8},
                                 nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(cuda::gather_rows<T>({.table = buf.get(), .ids = ids.get(), .out = buf.get(),
                                  .count = 0, .dim = 8, .table_stride = 8, .num_rows = 8},
                                 nullptr),
            cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
