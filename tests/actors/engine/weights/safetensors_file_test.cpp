// Rules of the road: real files on disk in a temp dir; each failure mode checks its message.
#include "actors/engine/weights/safetensors_file.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/common/error.hpp"
#include "actors/engine/weights/safetensors_writer.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/actors/engine/weights/tensor_bytes.hpp"

namespace proofmesh::engine {
namespace {

using testing::encode;
using testing::raw_file;
using proofmesh::testing::temp_dir;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<float> decode(const tensor_view& tensor) {
  std::vector<float> values(static_cast<size_t>(tensor.num_elements()));
  to_f32(tensor, values);
  return values;
}

TEST(safetensors_file, reads_back_all_three_dtypes) {
  const temp_dir dir;
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {1.0f, -2.5f, inf, -inf, 0.0f, 1e-6f};
  const auto f32 = encode(dtype::dtype_f32, values);
  const auto f16 = encode(dtype::dtype_f16, values);
  const auto bf16 = encode(dtype::dtype_bf16, values);
  const tensor_to_write tensors[] = {{"f32", dtype::dtype_f32, {2, 3}, f32},
                                     {"f16", dtype::dtype_f16, {6}, f16},
                                     {"bf16", dtype::dtype_bf16, {3, 2}, bf16}};
  write_safetensors(dir.file("m.safetensors"), tensors, {});
  const auto file = safetensors_file::open(dir.file("m.safetensors"));

  ASSERT_EQ(file.tensors().size(), 3u);
  EXPECT_EQ(file.tensors()[0].name, "bf16");  // sorted by name
  EXPECT_EQ(decode(*file.find("f32")), values);
  const auto f16_values = decode(*file.find("f16"));
  EXPECT_EQ(f16_values[2], inf);
  EXPECT_EQ(f16_values[3], -inf);
  EXPECT_EQ(f16_values[5], std::ldexp(17.0f, -24));  // 1e-6 is an f16 subnormal: 16.78 * 2^-24
  const auto bf16_values = decode(*file.find("bf16"));
  EXPECT_EQ(bf16_values[1], -2.5f);
  EXPECT_EQ(file.find("bf16")->type, dtype::dtype_bf16);
  EXPECT_EQ(file.find("nope"), nullptr);
}

TEST(safetensors_file, decodes_nan_and_unaligned_data) {
  // A 9-byte header puts the data at file offset 17, so no element is naturally aligned.
  const temp_dir dir;
  std::vector<std::byte> data = encode(dtype::dtype_f32, {std::numeric_limits<float>::quiet_NaN(), 3.0f});
  const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} )";
  ASSERT_EQ(header.size() % 2, 1u);
  const auto file = safetensors_file::open(dir.write("m.safetensors", raw_file(header.size(), header, data)));
  const auto values = decode(*file.find("w"));
  EXPECT_TRUE(std::isnan(values[0]));
  EXPECT_EQ(values[1], 3.0f);
}

TEST(safetensors_file, views_survive_a_move) {
  const temp_dir dir;
  const auto data = encode(dtype::dtype_f32, {7.0f});
  const tensor_to_write tensors[] = {{"w", dtype::dtype_f32, {1}, data}};
  write_safetensors(dir.file("m.safetensors"), tensors, {});
  auto file = safetensors_file::open(dir.file("m.safetensors"));
  const tensor_view* view = file.find("w");
  safetensors_file moved = std::move(file);
  EXPECT_EQ(moved.find("w"), view);
  EXPECT_EQ(decode(*view), std::vector<float>{7.0f});
  file = std::move(moved);
  EXPECT_EQ(decode(*file.find("w")), std::vector<float>{7.0f});
}

TEST(safetensors_file, rejects_missing_empty_and_non_regular_files) {
  const temp_dir dir;
  EXPECT_THAT([&] { safetensors_file::open(dir.file("absent.safetensors")); },
              ThrowsMessage<input_error>(HasSubstr("absent.safetensors: cannot open: No such file")));
  EXPECT_THAT([&] { safetensors_file::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr("not a regular file")));
  const std::string empty = dir.write("empty.safetensors", std::string());
  EXPECT_THAT([&] { safetensors_file::open(empty); },
              ThrowsMessage<input_error>(HasSubstr("empty.safetensors: file is 0 bytes")));
  const std::string truncated = dir.write("t.safetensors", raw_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
  EXPECT_THAT([&] { safetensors_file::open(truncated); },
              ThrowsMessage<input_error>(HasSubstr("t.safetensors: tensor \"w\" data range [0, 16) exceeds the data section (8 bytes)")));
}

} // namespace
} // namespace proofmesh::engine
