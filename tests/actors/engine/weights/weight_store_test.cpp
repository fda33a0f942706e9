// Rules of the road: each test builds its own model directory in a temp dir, single-file or
// sharded the way transformers writes them, and checks the message of every rejection.
#include "actors/engine/weights/weight_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "actors/common/error.hpp"

#include <fstream>
#include "actors/engine/weights/safetensors_writer.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/actors/engine/weights/tensor_bytes.hpp"

namespace proofmesh::engine {
namespace {

using testing::encode;
using proofmesh::testing::temp_dir;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

void write_one(const temp_dir& dir, const std::string& file, const std::string& name, dtype type,
               std::vector<int64_t> shape, const std::vector<float>& values) {
  const auto bytes = encode(type, values);
  const tensor_to_write tensors[] = {{name, type, std::move(shape), bytes}};
  write_safetensors(dir.file(file), tensors, {});
}

// Two shards and an index, as save_pretrained(max_shard_size=...) lays them out.
void write_sharded(const temp_dir& dir, const std::string& weight_map) {
  write_one(dir, "model-00001-of-00002.safetensors", "embed", dtype::dtype_bf16, {2, 2}, {1, 2, 3, 4});
  write_one(dir, "model-00002-of-00002.safetensors", "norm", dtype::dtype_f16, {2}, {0.5f, -0.25f});
  dir.write("model.safetensors.index.json",
            R"({"metadata":{"total_size":12},"weight_map":)" + weight_map + "}");
}

const std::string good_map =
    R"({"embed":"model-00001-of-00002.safetensors","norm":"model-00002-of-00002.safetensors"})";

TEST(weight_store, loads_a_single_file_in_every_dtype) {
  const temp_dir dir;
  const auto f32 = encode(dtype::dtype_f32, {1.5f, -2.0f});
  const auto f16 = encode(dtype::dtype_f16, {0.1f});
  const auto bf16 = encode(dtype::dtype_bf16, {1.0f / 3.0f});
  const tensor_to_write tensors[] = {{"model.a", dtype::dtype_f32, {2}, f32},
                                     {"model.b", dtype::dtype_f16, {1, 1}, f16},
                                     {"model.c", dtype::dtype_bf16, {1}, bf16}};
  write_safetensors(dir.file("model.safetensors"), tensors, {});

  const auto store = weight_store::open(dir.path());
  EXPECT_EQ(store.names(), (std::vector<std::string>{"model.a", "model.b", "model.c"}));
  EXPECT_TRUE(store.contains("model.a"));
  EXPECT_FALSE(store.contains("model.z"));
  const int64_t shape_2[] = {2}, shape_1x1[] = {1, 1}, shape_1[] = {1};
  EXPECT_EQ(store.load_f32("model.a", shape_2), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(store.load_f32("model.b", shape_1x1), std::vector<float>{0.0999755859375f});  // nearest f16
  EXPECT_EQ(store.load_f32("model.c", shape_1), std::vector<float>{0.333984375f});        // nearest bf16
}

TEST(weight_store, reports_missing_tensors_and_wrong_shapes) {
  const temp_dir dir;
  write_one(dir, "model.safetensors", "w", dtype::dtype_f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  const auto store = weight_store::open(dir.path());
  const int64_t transposed[] = {3, 2};
  EXPECT_THAT([&] { store.load_f32("model.norm.weight", transposed); },
              ThrowsMessage<input_error>(HasSubstr("model.safetensors: missing tensor \"model.norm.weight\"")));
  EXPECT_THAT([&] { store.load_f32("w", transposed); },
              ThrowsMessage<input_error>(HasSubstr("tensor \"w\" has shape [2, 3], expected [3, 2]")));
  const int64_t flat[] = {6};
  EXPECT_THROW(store.load_f32("w", flat), input_error);
}

// The file pages this process maps and holds (RssFile), in bytes.
int64_t resident_file_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("RssFile:", 0) == 0) return std::stoll(line.substr(8)) * 1024;
  }
  return -1;
}

// A backend streams a model through: fetch a tensor, copy it, release it. Released pages leave
// this process (the page cache keeps them), so a checkpoint far larger than memory streams
// through a few pages at a time; the tensor still reads the same afterwards.
TEST(weight_store, a_released_tensor_leaves_the_process_and_still_reads_the_same) {
  const temp_dir dir;
  const int64_t n = int64_t{16} << 20; // 32 MB of bf16
  std::vector<std::byte> bytes(static_cast<size_t>(2 * n));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(i * 7 + 1);
  const tensor_to_write tensors[] = {{"big", dtype::dtype_bf16, {n}, bytes}};
  write_safetensors(dir.file("model.safetensors"), tensors, {});

  const auto store = weight_store::open(dir.path());
  const int64_t shape[] = {n};
  const tensor_view& t = store.fetch("big", shape);
  const int64_t before = resident_file_bytes();
  ASSERT_GE(before, 0) << "no RssFile in /proc/self/status";
  uint64_t sum = 0;
  for (size_t i = 0; i < t.num_bytes; ++i) sum += static_cast<uint8_t>(t.data[i]);
  const int64_t touched = resident_file_bytes();
  EXPECT_GT(touched - before, n) << "reading the tensor maps at least half of its pages";
  store.release(t);
  EXPECT_LT(resident_file_bytes() - before, int64_t{1} << 20) << "released pages left the process";
  uint64_t again = 0;
  for (size_t i = 0; i < t.num_bytes; ++i) again += static_cast<uint8_t>(t.data[i]);
  EXPECT_EQ(again, sum);
  const int64_t wrong[] = {n + 1};
  EXPECT_THAT([&] { store.fetch("big", wrong); },
              ThrowsMessage<input_error>(HasSubstr("expected [16777217]")));
}

TEST(weight_store, loads_a_sharded_model) {
  const temp_dir dir;
  write_sharded(dir, good_map);
  auto store = weight_store::open(dir.path());
  const weight_store moved = std::move(store);  // views must survive the move
  EXPECT_EQ(moved.names(), (std::vector<std::string>{"embed", "norm"}));
  const int64_t embed_shape[] = {2, 2}, norm_shape[] = {2};
  EXPECT_EQ(moved.load_f32("embed", embed_shape), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(moved.load_f32("norm", norm_shape), (std::vector<float>{0.5f, -0.25f}));
  EXPECT_EQ(moved.find("norm")->type, dtype::dtype_f16);
  EXPECT_THAT(moved.source(), HasSubstr("model.safetensors.index.json"));
}

TEST(weight_store, rejects_a_missing_shard) {
  const temp_dir dir;
  write_sharded(dir, R"({"embed":"model-00001-of-00002.safetensors","norm":"model-00003-of-00003.safetensors"})");
  EXPECT_THAT([&] { weight_store::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr("model-00003-of-00003.safetensors: cannot open")));
}

TEST(weight_store, rejects_shard_names_outside_the_directory) {
  for (const std::string shard : {"../model.safetensors", "sub/model.safetensors", "/etc/passwd", "..", ""}) {
    const temp_dir dir;
    write_sharded(dir, R"({"embed":")" + shard + R"("})");
    EXPECT_THAT([&] { weight_store::open(dir.path()); },
                ThrowsMessage<input_error>(HasSubstr("is not a plain file name inside the model directory")))
        << shard;
  }
}

TEST(weight_store, rejects_a_tensor_missing_from_its_shard) {
  const temp_dir dir;
  write_sharded(dir, R"({"embed":"model-00002-of-00002.safetensors"})");
  EXPECT_THAT([&] { weight_store::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr(
                  "tensor \"embed\" is not in shard \"model-00002-of-00002.safetensors\"")));
}

TEST(weight_store, rejects_bad_index_files_and_empty_directories) {
  const temp_dir dir;
  EXPECT_THAT([&] { weight_store::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr("holds neither model.safetensors nor")));
  dir.write("model.safetensors.index.json", std::string("{oops"));
  EXPECT_THAT([&] { weight_store::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr("model.safetensors.index.json: not valid JSON")));
  dir.write("model.safetensors.index.json", std::string(R"({"weight_map":[]})"));
  EXPECT_THAT([&] { weight_store::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr("lacks a \"weight_map\" object")));
  dir.write("model.safetensors.index.json", std::string(R"({"weight_map":{"a":3}})"));
  EXPECT_THAT([&] { weight_store::open(dir.path()); },
              ThrowsMessage<input_error>(HasSubstr("weight_map entry \"a\" is not a string")));
}

} // namespace
} // namespace proofmesh::engine
