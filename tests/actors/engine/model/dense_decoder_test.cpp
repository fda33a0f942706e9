// The dense decoder on the CPU backend, on models made by model init: prefill and step-by-step
// decode agree, batching does not change results, and bad checkpoints fail with the tensor's name.
#include "actors/engine/model/dense_decoder.hpp"

#include "actors/engine/model/cpu_runner.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/model/model_init.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/max_rel_diff.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace proofmesh::engine {
namespace {

std::unique_ptr<cpu_runner> load(const std::string& dir) {
  return std::make_unique<cpu_runner>(load_model_config(dir), weight_store::open(dir));
}

using testing::max_rel_diff;

class dense_decoder_arch : public ::testing::TestWithParam<const char*> {};

TEST_P(dense_decoder_arch, prefill_equals_step_by_step_decode) {
  testing::temp_dir dir;
  init_random_model({.arch = *parse_model_arch(GetParam()), .seed = 5, .out_dir = dir.str()});
  auto model = load(dir.str());
  std::vector<int32_t> tokens = {5, 17, 300, 42, 8, 99, 256};

  runner_item all{.seq = model->create_sequence(), .tokens = tokens, .all_logits = true};
  std::vector<float> prefill = model->forward(std::span(&all, 1));
  const size_t vocab = static_cast<size_t>(model->config().vocab_size);
  ASSERT_EQ(prefill.size(), tokens.size() * vocab);

  const sequence_id step = model->create_sequence();
  for (size_t t = 0; t < tokens.size(); ++t) {
    runner_item one{.seq = step, .tokens = std::span(&tokens[t], 1)};
    std::vector<float> logits = model->forward(std::span(&one, 1));
    std::vector<float> ref(prefill.begin() + t * vocab, prefill.begin() + (t + 1) * vocab);
    // Same arithmetic up to summation order inside the matmul tiles: float32 rounding only.
    EXPECT_LT(max_rel_diff(logits, ref), 1e-5) << "position " << t;
  }
}

TEST_P(dense_decoder_arch, batching_sequences_does_not_change_their_logits) {
  testing::temp_dir dir;
  init_random_model({.arch = *parse_model_arch(GetParam()), .seed = 6, .out_dir = dir.str()});
  auto model = load(dir.str());
  std::vector<int32_t> a = {1, 2, 3, 4, 5}, b = {9, 8, 7};
  runner_item fa{.seq = model->create_sequence(), .tokens = a};
  runner_item fb{.seq = model->create_sequence(), .tokens = b};
  auto la = model->forward(std::span(&fa, 1));
  auto lb = model->forward(std::span(&fb, 1));
  std::vector<runner_item> both = {{.seq = model->create_sequence(), .tokens = a},
                                   {.seq = model->create_sequence(), .tokens = b}};
  auto lab = model->forward(both);
  const size_t vocab = static_cast<size_t>(model->config().vocab_size);
  EXPECT_LT(max_rel_diff(std::vector<float>(lab.begin(), lab.begin() + vocab), la), 1e-5);
  EXPECT_LT(max_rel_diff(std::vector<float>(lab.begin() + vocab, lab.end()), lb), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(archs, dense_decoder_arch, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(model_init, same_seed_same_bytes_other_seed_other_bytes) {
  testing::temp_dir a, b, c;
  init_random_model({.arch = model_arch::model_arch_qwen3, .seed = 1, .out_dir = a.str()});
  init_random_model({.arch = model_arch::model_arch_qwen3, .seed = 1, .out_dir = b.str()});
  init_random_model({.arch = model_arch::model_arch_qwen3, .seed = 2, .out_dir = c.str()});
  for (const char* f : {"model.safetensors", "config.json", "tokenizer.json"}) {
    EXPECT_EQ(testing::read_file(a.str(f)), testing::read_file(b.str(f))) << f;
  }
  EXPECT_NE(testing::read_file(a.str("model.safetensors")), testing::read_file(c.str("model.safetensors")));
}

TEST(dense_decoder, shape_mismatch_names_the_tensor) {
  testing::temp_dir dir;
  init_random_model({.arch = model_arch::model_arch_llama, .seed = 1, .out_dir = dir.str()});
  auto config = load_model_config(dir.str());
  config.intermediate_size += 1;
  try {
    cpu_runner runner(config, weight_store::open(dir.str()));
    FAIL() << "expected a shape error";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("mlp.gate_proj.weight"), std::string::npos) << e.what();
  }
}

TEST(dense_decoder, missing_tensor_is_named) {
  testing::temp_dir dir;
  init_random_model({.arch = model_arch::model_arch_qwen2, .seed = 1, .out_dir = dir.str()});
  auto config = load_model_config(dir.str());
  config.o_bias = true; // Qwen2 checkpoints carry no o_proj.bias
  try {
    cpu_runner runner(config, weight_store::open(dir.str()));
    FAIL() << "expected a missing-tensor error";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.0.self_attn.o_proj.bias"), std::string::npos)
        << e.what();
  }
}

TEST(dense_decoder, bf16_model_loads_close_to_f32_model) {
  testing::temp_dir f32, bf16;
  init_random_model({.arch = model_arch::model_arch_qwen2, .seed = 3, .out_dir = f32.str()});
  init_random_model(
      {.arch = model_arch::model_arch_qwen2, .seed = 3, .bf16 = true, .out_dir = bf16.str()});
  auto a = load(f32.str()), b = load(bf16.str());
  std::vector<int32_t> tokens = {3, 1, 4, 1, 5};
  runner_item fa{.seq = a->create_sequence(), .tokens = tokens};
  runner_item fb{.seq = b->create_sequence(), .tokens = tokens};
  // bf16 rounding of every weight (2^-9 relative) moves logits by well under 5%.
  EXPECT_LT(max_rel_diff(b->forward(std::span(&fb, 1)), a->forward(std::span(&fa, 1))), 0.05);
}

// The CPU mirror of the FP8 cache: cached keys and values keep 3 mantissa bits, so the logits
// move, a little; not moving at all would mean the flag reached nothing.
TEST(dense_decoder, fp8_cache_mirror_moves_logits_a_little) {
  testing::temp_dir dir;
  init_random_model({.arch = model_arch::model_arch_llama, .seed = 5, .out_dir = dir.str()});
  const model_config config = load_model_config(dir.str());
  const weight_store store = weight_store::open(dir.str());
  cpu_runner plain(config, store), fp8(config, store, true);
  std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9};
  runner_item a{.seq = plain.create_sequence(), .tokens = tokens, .all_logits = true};
  runner_item b{.seq = fp8.create_sequence(), .tokens = tokens, .all_logits = true};
  const std::vector<float> want = plain.forward(std::span(&a, 1));
  const std::vector<float> got = fp8.forward(std::span(&b, 1));
  const double moved = max_rel_diff(got, want);
  // e4m3 rounds each value by up to 2^-4 of itself; through the softmax's averaging and two
  // layers, the tiny model's logits move by far less than a tenth of their range.
  EXPECT_GT(moved, 1e-5);
  EXPECT_LT(moved, 0.1);
}

} // namespace
} // namespace proofmesh::engine
