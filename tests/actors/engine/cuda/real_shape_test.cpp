// The CUDA backend end to end on random-weight models of real shapes (Llama-3.2-1B, Qwen2.5-0.5B,
// Qwen3-0.6B, and a four-layer DeepSeek-V3.2 of the real widths in FP8) against transformers'
// float32 greedy run. tests/golden/real_shapes.py and deepseek_real_width.py make the
// models and expected.json on the GPU machine (they are gigabytes, so never committed) and
// tests/gpu_test.sh points PM_REAL_SHAPE_MODELS at them; without it the test skips and says so.
// Tolerances: float32 on both sides, but with thousands of terms per dot product and 16-28
// layers, summation order moves logprobs by ~1e-4; we allow 2e-3, and greedy ids must be equal
// (the logits are peaked, so no near-ties decide them). In bf16 the first greedy token must be
// among transformers' top 5.
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/sampling/sampler.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/read_file.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

namespace proofmesh::engine {
namespace {

class real_shape_test : public ::testing::TestWithParam<const char*> {
protected:
  void SetUp() override {
    std::string why;
    if (!cuda_device_available(&why)) {
      GTEST_SKIP() << "needs a CUDA GPU: " << why;
    }
    const char* root = std::getenv("PM_REAL_SHAPE_MODELS");
    if (root == nullptr) {
      GTEST_SKIP() << "set PM_REAL_SHAPE_MODELS to the output of tests/golden/real_shapes.py";
    }
    dir_ = std::string(root) + "/" + GetParam();
    config_ = load_model_config(dir_);
    weights_ = weight_store::open(dir_);
    expected_ = nlohmann::json::parse(testing::read_file(dir_ + "/expected.json"));
  }

  std::string dir_;
  model_config config_;
  weight_store weights_; // read at each runner's load
  nlohmann::json expected_;
};

TEST_P(real_shape_test, f32_greedy_and_logprobs_match_transformers) {
  auto cuda = make_cuda_runner(config_, weights_, {.dtype = compute_dtype::compute_dtype_f32,
                                                   .num_kv_blocks = 64});
  std::vector<int32_t> next = expected_["prompt_ids"];
  const auto& ref_ids = expected_["greedy_ids"];
  const auto& ref_lp = expected_["greedy_logprobs"];
  sequence_id seq = cuda->create_sequence();
  for (size_t step = 0; step < ref_ids.size(); ++step) {
    runner_item item{.seq = seq, .tokens = next};
    auto logits = cuda->forward(std::span(&item, 1));
    auto lp = top_logprobs(logits, 5);
    ASSERT_EQ(lp.top_ids[0], ref_ids[step].get<int32_t>()) << "step " << step;
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_NEAR(lp.top_logprobs[k], ref_lp[step]["top_logprobs"][k].get<double>(), 2e-3)
          << "step " << step << " rank " << k;
    }
    next = {lp.top_ids[0]};
  }
}

TEST_P(real_shape_test, bf16_first_token_is_in_transformers_top5) {
  auto cuda = make_cuda_runner(config_, weights_, {.dtype = compute_dtype::compute_dtype_bf16,
                                                   .num_kv_blocks = 64});
  std::vector<int32_t> prompt = expected_["prompt_ids"];
  runner_item item{.seq = cuda->create_sequence(), .tokens = prompt};
  auto logits = cuda->forward(std::span(&item, 1));
  int32_t top = top_logprobs(logits, 1).top_ids[0];
  std::vector<int32_t> ref_top5 = expected_["greedy_logprobs"][0]["top_ids"];
  EXPECT_NE(std::find(ref_top5.begin(), ref_top5.end(), top), ref_top5.end());
}

INSTANTIATE_TEST_SUITE_P(archs, real_shape_test,
                         ::testing::Values("llama", "qwen2", "qwen3", "deepseek_v32"));

} // namespace
} // namespace proofmesh::engine
