// Rules of the road: the names are the safetensors spellings, byte for byte.
#include "actors/engine/weights/dtype.hpp"

#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

TEST(dtype, sizes_and_names) {
  EXPECT_EQ(dtype_size(dtype::dtype_f32), 4u);
  EXPECT_EQ(dtype_size(dtype::dtype_f16), 2u);
  EXPECT_EQ(dtype_size(dtype::dtype_bf16), 2u);
  EXPECT_EQ(dtype_name(dtype::dtype_f32), "F32");
  EXPECT_EQ(dtype_name(dtype::dtype_f16), "F16");
  EXPECT_EQ(dtype_name(dtype::dtype_bf16), "BF16");
  EXPECT_EQ(dtype_size(dtype::dtype_f8_e4m3), 1u);
  EXPECT_EQ(dtype_name(dtype::dtype_f8_e4m3), "F8_E4M3");
}

TEST(dtype, from_name_round_trips_and_refuses_others) {
  for (dtype type : {dtype::dtype_f32, dtype::dtype_f16, dtype::dtype_bf16, dtype::dtype_f8_e4m3}) {
    EXPECT_EQ(dtype_from_name(dtype_name(type)), type);
  }
  for (const char* other : {"I8", "F64", "F8_E5M2", "f8_e4m3", "bf16", "f32", "", "BOOL"}) {
    EXPECT_FALSE(dtype_from_name(other).has_value()) << other;
  }
}

} // namespace
} // namespace proofmesh::engine
