// Rules of the road: hostile files are built byte by byte (tensor_bytes.hpp raw_file), one broken
// rule each, and every rejection checks a substring of the message so a wrong reason fails too.
#include "actors/engine/weights/safetensors_header.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/common/error.hpp"
#include "tests/actors/engine/weights/tensor_bytes.hpp"

namespace proofmesh::engine {
namespace {

using testing::raw_file;
using ::testing::HasSubstr;

safetensors_header parse(const std::vector<std::byte>& file) {
  return parse_safetensors_header(file, "model.safetensors");
}

// Expects input_error whose message starts with the file name and contains `expected`.
void expect_rejected(const std::vector<std::byte>& file, const std::string& expected) {
  try {
    parse(file);
    ADD_FAILURE() << "accepted a file that should fail with: " << expected;
  } catch (const input_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.safetensors: "));
    EXPECT_THAT(e.what(), HasSubstr(expected));
  }
}

std::string one_tensor(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"w":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}";
}

TEST(safetensors_header, parses_a_valid_header) {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"s":{"dtype":"F16","shape":[],"data_offsets":[12,14]},)"
      R"("z":{"dtype":"F32","shape":[0,5],"data_offsets":[14,14]}}   )";
  const auto header_data = parse(raw_file(header, 14));
  EXPECT_EQ(header_data.data_start, 8 + header.size());
  EXPECT_EQ(header_data.data_size, 14u);
  EXPECT_EQ(header_data.metadata.at("format"), "pt");
  ASSERT_EQ(header_data.tensors.size(), 4u);
  EXPECT_EQ(header_data.tensors[0].name, "a");  // sorted by name
  EXPECT_EQ(header_data.tensors[1].name, "b");
  EXPECT_EQ(header_data.tensors[1].type, dtype::dtype_bf16);
  EXPECT_EQ(header_data.tensors[1].begin, 8u);
  EXPECT_EQ(header_data.tensors[1].end, 12u);
  EXPECT_TRUE(header_data.tensors[2].shape.empty());  // a scalar
  EXPECT_EQ(header_data.tensors[3].shape, (std::vector<int64_t>{0, 5}));
}

TEST(safetensors_header, tolerates_gaps_and_trailing_bytes_and_no_metadata) {
  const auto header_data = parse(raw_file(one_tensor("F32", "[1]", "[4,8]"), 16));
  EXPECT_TRUE(header_data.metadata.empty());
  EXPECT_EQ(header_data.tensors.at(0).begin, 4u);
}

TEST(safetensors_header, accepts_an_empty_object) { EXPECT_TRUE(parse(raw_file("{}", 0)).tensors.empty()); }

TEST(safetensors_header, rejects_short_files) {
  expect_rejected({}, "file is 0 bytes, too short");
  expect_rejected(std::vector<std::byte>(5, std::byte{0}), "file is 5 bytes, too short");
}

TEST(safetensors_header, rejects_bad_header_lengths) {
  expect_rejected(raw_file(100, "{}"), "header length 100 exceeds the file (10 bytes)");
  expect_rejected(raw_file(100'000'001, "{}"), "header length 100000001 exceeds the cap");
  expect_rejected(raw_file(~uint64_t{0}, "{}"), "exceeds the cap");
  expect_rejected(raw_file(0, "{}"), "does not start with a JSON object");
}

TEST(safetensors_header, rejects_non_json_and_non_objects) {
  expect_rejected(raw_file("{not json", 0), "header is not valid JSON");
  expect_rejected(raw_file("[1, 2]", 0), "does not start with a JSON object");
  expect_rejected(raw_file(" {}", 0), "does not start with a JSON object");
  expect_rejected(raw_file("{} {}", 0), "header is not valid JSON");
  expect_rejected(raw_file("{\"a\":\"\xff\"}", 0), "header is not valid JSON");  // bad UTF-8
  expect_rejected(raw_file(std::string("{}\0", 3), 0), "header is not valid JSON");
}

TEST(safetensors_header, rejects_bad_entries) {
  expect_rejected(raw_file(R"({"w":[1]})", 0), "tensor \"w\" is not a JSON object");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[]}})", 0), "tensor \"w\" lacks \"data_offsets\"");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}})", 4),
                  "has unknown field \"x\"");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                  "repeats the key \"w\"");
  expect_rejected(raw_file(R"({"__metadata__":{"format":1}})", 0), "\"__metadata__\" value of \"format\"");
  expect_rejected(raw_file(R"({"__metadata__":[]})", 0), "\"__metadata__\" is not a JSON object");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[[[1]]],"data_offsets":[0,4]}})", 4), "nests deeper");
}

TEST(safetensors_header, rejects_unsupported_dtypes) {
  expect_rejected(raw_file(one_tensor("I8", "[4]", "[0,4]"), 4), "tensor \"w\" has unsupported dtype \"I8\"");
  expect_rejected(raw_file(one_tensor("F64", "[1]", "[0,8]"), 8), "unsupported dtype \"F64\"");
  expect_rejected(raw_file(R"({"w":{"dtype":3,"shape":[1],"data_offsets":[0,4]}})", 4), "dtype is not a string");
}

TEST(safetensors_header, rejects_bad_shapes) {
  expect_rejected(raw_file(one_tensor("F32", "[-1]", "[0,4]"), 4), "not a non-negative integer");
  expect_rejected(raw_file(one_tensor("F32", "[1e30]", "[0,4]"), 4), "not a non-negative integer");
  expect_rejected(raw_file(one_tensor("F32", "[1.0]", "[0,4]"), 4), "not a non-negative integer");
  expect_rejected(raw_file(one_tensor("F32", "[99999999999999999999]", "[0,4]"), 4), "not a non-negative integer");
  expect_rejected(raw_file(one_tensor("F32", "[9223372036854775808]", "[0,4]"), 4), "overflows 64 bits");
  expect_rejected(raw_file(one_tensor("F32", "[4294967296,4294967296]", "[0,4]"), 4), "overflows 64 bits");
  expect_rejected(raw_file(one_tensor("F32", "[4611686018427387904]", "[0,4]"), 4), "overflows 64 bits in bytes");
  expect_rejected(raw_file(one_tensor("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]"), 4), "has rank 9");
  expect_rejected(raw_file(one_tensor("F32", "7", "[0,4]"), 4), "shape is not a JSON array");
}

TEST(safetensors_header, rejects_bad_offsets) {
  expect_rejected(raw_file(one_tensor("F32", "[2]", "[0,8]"), 4),
                  "tensor \"w\" data range [0, 8) exceeds the data section (4 bytes)");
  expect_rejected(raw_file(one_tensor("F32", "[0]", "[8,4]"), 8), "data range [8, 4) ends before it begins");
  expect_rejected(raw_file(one_tensor("F32", "[2]", "[0,4]"), 8), "holds 4 bytes but F32 shape [2] needs 8");
  expect_rejected(raw_file(one_tensor("F32", "[1]", "[0]"), 4), "not a [begin, end] pair");
  expect_rejected(raw_file(one_tensor("F32", "[1]", "[0,4,8]"), 8), "not a [begin, end] pair");
  expect_rejected(raw_file(one_tensor("F32", "[1]", "[-4,0]"), 4), "not a non-negative integer");
  expect_rejected(raw_file(one_tensor("F32", "[1]", "[0.0,4.0]"), 4), "not a non-negative integer");
  expect_rejected(raw_file(one_tensor("F32", "[1]", "[18446744073709551612,0]"), 4), "ends before it begins");
}

TEST(safetensors_header, rejects_overlapping_tensors) {
  expect_rejected(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                  "tensor \"b\" data range [4, 8) overlaps tensor \"a\" [0, 8)");
  expect_rejected(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4),
                  "overlaps tensor");
}

} // namespace
} // namespace proofmesh::engine
