// Rules of the road: files are written to a fresh temp dir and checked at the byte level against
// the layout the reference Rust serializer produces, then read back through safetensors_file.
#include "actors/engine/weights/safetensors_writer.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/common/error.hpp"
#include "actors/engine/weights/safetensors_file.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/actors/engine/weights/tensor_bytes.hpp"

namespace proofmesh::engine {
namespace {

using testing::encode;
using proofmesh::testing::temp_dir;
using ::testing::HasSubstr;

size_t num_entries(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                           std::filesystem::directory_iterator()));
}

TEST(safetensors_writer, matches_the_reference_layout_byte_for_byte) {
  // What safetensors.torch.save_file({"a": torch.tensor([1.0, 2.0])}, f, {"format": "pt"}) writes.
  const temp_dir dir;
  const auto data = encode(dtype::dtype_f32, {1.0f, 2.0f});
  const tensor_to_write tensors[] = {{"a", dtype::dtype_f32, {2}, data}};
  write_safetensors(dir.file("x.safetensors"), tensors, {});

  std::string header = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string expected;
  for (int i = 0; i < 8; ++i) expected.push_back(static_cast<char>(header.size() >> (8 * i)));
  expected += header;
  expected.append(reinterpret_cast<const char*>(data.data()), data.size());
  EXPECT_EQ(proofmesh::testing::read_file(dir.file("x.safetensors")), expected);
}

TEST(safetensors_writer, orders_by_dtype_alignment_then_name_and_packs_data) {
  const temp_dir dir;
  const auto f16 = encode(dtype::dtype_f16, {1.0f, -2.0f, 0.5f});
  const auto bf16 = encode(dtype::dtype_bf16, {3.0f});
  const auto f32_b = encode(dtype::dtype_f32, {4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f});
  const auto f32_a = encode(dtype::dtype_f32, {});
  const tensor_to_write tensors[] = {
      {"h", dtype::dtype_f16, {3}, f16},
      {"g", dtype::dtype_bf16, {}, bf16},
      {"b", dtype::dtype_f32, {2, 3}, f32_b},
      {"a", dtype::dtype_f32, {0, 4}, f32_a},
  };
  const std::string path = dir.file("model.safetensors");
  write_safetensors(path, tensors, {{"note", "hi"}});

  const std::string bytes = proofmesh::testing::read_file(path);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(header_size % 8, 0u);
  const std::string header = bytes.substr(8, header_size);
  EXPECT_THAT(header, ::testing::StartsWith(R"({"__metadata__":{"note":"hi","format":"pt"},"a":)"));
  EXPECT_LT(header.find("\"b\""), header.find("\"g\""));  // F32, then BF16, then F16
  EXPECT_LT(header.find("\"g\""), header.find("\"h\""));
  EXPECT_EQ(bytes.size(), 8 + header_size + f16.size() + bf16.size() + f32_b.size());

  const auto file = safetensors_file::open(path);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.metadata().at("note"), "hi");
  ASSERT_EQ(file.tensors().size(), 4u);
  const tensor_view* b = file.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::vector<std::byte>(b->data, b->data + b->num_bytes), f32_b);
  const tensor_view* h = file.find("h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(std::vector<std::byte>(h->data, h->data + h->num_bytes), f16);
  EXPECT_EQ(file.find("g")->num_elements(), 1);
  EXPECT_EQ(file.find("a")->num_bytes, 0u);
}

TEST(safetensors_writer, keeps_a_caller_format_and_overwrites_atomically) {
  const temp_dir dir;
  const std::string path = dir.file("m.safetensors");
  const auto one = encode(dtype::dtype_f32, {1.0f});
  const tensor_to_write first[] = {{"x", dtype::dtype_f32, {1}, one}};
  write_safetensors(path, first, {{"format", "np"}});
  EXPECT_EQ(safetensors_file::open(path).metadata().at("format"), "np");
  const tensor_to_write second[] = {{"y", dtype::dtype_f32, {1}, one}};
  write_safetensors(path, second, {});
  const auto file = safetensors_file::open(path);
  EXPECT_EQ(file.find("x"), nullptr);
  EXPECT_NE(file.find("y"), nullptr);
  EXPECT_EQ(num_entries(dir.path()), 1u);  // no temp file left behind
}

TEST(safetensors_writer, rejects_bad_tensors_before_touching_the_disk) {
  const temp_dir dir;
  const std::string path = dir.file("m.safetensors");
  const auto four = encode(dtype::dtype_f32, {1.0f});
  auto expect_rejected = [&](std::vector<tensor_to_write> tensors, const std::string& expected) {
    EXPECT_THAT([&] { write_safetensors(path, tensors, {}); },
                ::testing::ThrowsMessage<input_error>(HasSubstr(expected)));
    EXPECT_EQ(num_entries(dir.path()), 0u);
  };
  expect_rejected({{"x", dtype::dtype_f32, {2}, four}}, "tensor \"x\" has 4 bytes, but its shape and dtype need 8");
  expect_rejected({{"x", dtype::dtype_f32, {-1}, four}}, "negative dimension");
  expect_rejected({{"x", dtype::dtype_f32, {1}, four}, {"x", dtype::dtype_f32, {1}, four}}, "appears twice");
  expect_rejected({{"__metadata__", dtype::dtype_f32, {1}, four}}, "reserved name");
  expect_rejected({{"\xff", dtype::dtype_f32, {1}, four}}, "cannot encode the header");
}

TEST(safetensors_writer, reports_an_unwritable_path) {
  const temp_dir dir;
  const tensor_to_write none[] = {{"x", dtype::dtype_f32, {0}, {}}};
  EXPECT_THAT([&] { write_safetensors(dir.file("no/such/dir/m.safetensors"), none, {}); },
              ::testing::ThrowsMessage<input_error>(HasSubstr("cannot create a temp file")));
}

} // namespace
} // namespace proofmesh::engine
