// Continuous batching on the CUDA runner (device sampling, paged cache, prefix cache): with
// batching, chunked prefill and preemption, every request's greedy ids equal a solo generate()
// run on a fresh runner, and the golden prompt's ids equal transformers' greedy output.
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/generation/generation.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/prefix_samples.hpp"
#include "tests/support/source_path.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

namespace proofmesh::engine {
namespace {

class cuda_batch_engine_test : public ::testing::TestWithParam<const char*> {
protected:
  void SetUp() override {
    std::string why;
    if (!cuda_device_available(&why)) {
      GTEST_SKIP() << "needs a CUDA GPU: " << why;
    }
    std::string dir = testing::source_path(std::string("tests/golden/data/hf/") + GetParam());
    config_ = load_model_config(dir);
    weights_ = weight_store::open(dir);
    expected_ = nlohmann::json::parse(testing::read_file(dir + "/expected.json"));
    prompts_ = {expected_["prompt_ids"].get<std::vector<int32_t>>(),
                {5, 6, 7},
                {200, 100, 50, 25, 12, 6, 3, 1, 2, 4, 8, 16, 32, 64, 128},
                {9},
                {11, 22, 33, 44, 55, 66, 77, 88, 99, 111, 122}};
  }

  std::unique_ptr<model_runner> runner(int32_t blocks) {
    return make_cuda_runner(config_, weights_, {.dtype = compute_dtype::compute_dtype_f32,
                                                .block_size = 4, .num_kv_blocks = blocks});
  }

  model_config config_;
  weight_store weights_; // read at each runner's load
  nlohmann::json expected_;
  std::vector<std::vector<int32_t>> prompts_;
};

TEST_P(cuda_batch_engine_test, batched_runs_equal_solo_runs_and_transformers) {
  const int32_t max_tokens = 12;
  std::vector<std::vector<int32_t>> solo;
  for (const auto& p : prompts_) {
    auto r = runner(256);
    solo.push_back(generate(*r, nullptr,
                            {.prompt = p, .max_tokens = max_tokens,
                             .sampling = {.temperature = 0}},
                            {})[0]
                       .ids);
  }
  EXPECT_EQ(solo[0], expected_["greedy_ids"].get<std::vector<int32_t>>());
  for (auto [blocks, budget] : {std::pair{256, 4096}, {256, 6}, {14, 64}}) {
    auto r = runner(blocks);
    batch_engine engine(*r, nullptr, {.max_running = 8, .max_step_tokens = budget,
                                      .block_size = 4, .total_blocks = blocks});
    for (size_t i = 0; i < prompts_.size(); ++i) {
      engine.submit({.prompt = prompts_[i], .max_tokens = max_tokens,
                     .sampling = {.temperature = 0}, .stream = i});
    }
    std::map<request_id, std::vector<int32_t>> done;
    for (int steps = 0; !engine.idle() && steps < 2000; ++steps) {
      for (auto& e : engine.step()) {
        if (e.finished) {
          done[e.id] = e.finished->ids;
        }
      }
    }
    ASSERT_EQ(done.size(), prompts_.size()) << "blocks " << blocks;
    for (size_t i = 0; i < prompts_.size(); ++i) {
      EXPECT_EQ(done[static_cast<request_id>(i)], solo[i])
          << "blocks " << blocks << " budget " << budget << " request " << i;
    }
    if (blocks == 14) {
      EXPECT_GT(engine.planner().num_preemptions(), 0);
    }
  }
}

TEST_P(cuda_batch_engine_test, samples_of_one_prompt_prefill_it_once) {
  // Eight sampled completions of one 21-token prompt, submitted together: one request computes
  // the prompt, the other seven draw their first tokens from its logits row in that step (one
  // item drawn eight times), fork its cache, partial block included, and decode beside it; each
  // still equals its own solo run (draws are keyed by seed, stream and step).
  const std::vector<int32_t> prompt = testing::prefix_sample_prompt(config_.vocab_size);
  auto r = runner(256);
  batch_engine engine(*r, nullptr, {.max_running = 16, .max_step_tokens = 4096, .block_size = 4,
                                    .total_blocks = 256});
  for (uint64_t i = 0; i < 8; ++i) {
    engine.submit(testing::prefix_sample(prompt, i));
  }
  const auto done = testing::run_to_end(engine);
  ASSERT_EQ(done.size(), 8u);
  // The leader's 21 prompt tokens, then 5 decodes each: the followers compute no prompt token.
  EXPECT_EQ(engine.num_computed_tokens(), 21 + 8 * 5);
  for (uint64_t i = 0; i < 8; ++i) {
    auto solo = runner(256);
    EXPECT_EQ(done.at(static_cast<request_id>(i)),
              testing::run_alone(*solo, testing::prefix_sample(prompt, i), 256))
        << "stream " << i;
  }
}

TEST_P(cuda_batch_engine_test, followers_fork_a_leader_that_already_ended) {
  // max_tokens 1 and one sequence at a time: the leader finishes in the step that computes the
  // prompt, with no room for its twins to join; its cache stays as a donor until the seven
  // followers have forked it one by one (computing the last prompt token each), then every
  // block returns to the pool.
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 21; ++i) {
    prompt.push_back((i * 17 + 3) % static_cast<int32_t>(config_.vocab_size));
  }
  auto r = runner(256);
  batch_engine engine(*r, nullptr, {.max_running = 1, .max_step_tokens = 4096, .block_size = 4,
                                    .total_blocks = 256});
  for (uint64_t i = 0; i < 8; ++i) {
    engine.submit({.prompt = prompt, .max_tokens = 1, .sampling = {.temperature = 0},
                   .stream = i});
  }
  int finished = 0;
  for (int steps = 0; !engine.idle() && steps < 50; ++steps) {
    for (auto& e : engine.step()) {
      finished += e.finished ? 1 : 0;
    }
  }
  EXPECT_EQ(finished, 8);
  EXPECT_EQ(engine.num_computed_tokens(), 21 + 7);
  EXPECT_EQ(r->stats().free_kv_blocks, 256);
}

TEST_P(cuda_batch_engine_test, a_partial_block_fork_never_rewrites_an_indexed_block) {
  // Block size 4, a 22-token prompt, two running at a time: the leader generates 3 tokens, so its
  // block 5 fills (tokens 20..23) and enters the prefix index; it ends before the last followers
  // run, leaving a donor. Those fork at 21 tokens, sharing block 5 up to position 20, and write
  // position 21 once the donor has let go: that write must copy the indexed block. A later
  // request whose prompt extends the leader's full history adopts block 5 from the index and
  // must still match a solo run.
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 22; ++i) {
    prompt.push_back((i * 13 + 5) % static_cast<int32_t>(config_.vocab_size));
  }
  auto r = runner(256);
  batch_engine engine(*r, nullptr, {.max_running = 2, .max_step_tokens = 4096, .block_size = 4,
                                    .total_blocks = 256});
  const sampling_params sampled{.temperature = 1.0f, .seed = 9};
  request_id leader = engine.submit({.prompt = prompt, .max_tokens = 3, .sampling = sampled});
  for (uint64_t i = 1; i < 6; ++i) {
    engine.submit({.prompt = prompt, .max_tokens = 3, .sampling = sampled, .stream = i});
  }
  std::map<request_id, std::vector<int32_t>> done;
  for (int steps = 0; !engine.idle() && steps < 200; ++steps) {
    for (auto& e : engine.step()) {
      if (e.finished) done[e.id] = e.finished->ids;
    }
  }
  ASSERT_EQ(done.size(), 6u);
  std::vector<int32_t> history = prompt;
  history.insert(history.end(), done[leader].begin(), done[leader].end()); // 25 tokens
  history.push_back(7);
  auto greedy_ids = [&](model_runner& on) {
    batch_engine one(on, nullptr, {.max_running = 1, .max_step_tokens = 4096, .block_size = 4,
                                   .total_blocks = 256});
    one.submit({.prompt = history, .max_tokens = 4, .sampling = {.temperature = 0}});
    std::vector<int32_t> ids;
    while (!one.idle()) {
      for (auto& e : one.step()) {
        if (e.finished) ids = e.finished->ids;
      }
    }
    return ids;
  };
  const int64_t hits_before = r->stats().prefix_hit_tokens;
  std::vector<int32_t> reused = greedy_ids(*r);
  EXPECT_GE(r->stats().prefix_hit_tokens - hits_before, 24); // blocks 0..5 came from the index
  auto fresh = runner(256);
  EXPECT_EQ(reused, greedy_ids(*fresh));
}

INSTANTIATE_TEST_SUITE_P(archs, cuda_batch_engine_test,
                         ::testing::Values("llama", "qwen2", "qwen3"));

} // namespace
} // namespace proofmesh::engine
