// Generation semantics on a tiny random model: n samples, seeds, stop conditions, streaming.
#include "actors/engine/generation/generation.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/model/cpu_runner.hpp"
#include "actors/engine/model/model_init.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

class generation_test : public ::testing::Test {
protected:
  void SetUp() override {
    init_random_model({.arch = model_arch::model_arch_qwen2, .seed = 11, .out_dir = dir_.str()});
    config_ = load_model_config(dir_.str());
    model_ = std::make_unique<cpu_runner>(
        config_, weight_store::open(dir_.str()));
    tok_ = std::make_unique<tokenizer>(tokenizer::from_file(dir_.str("tokenizer.json")));
  }

  std::vector<completion> run(generate_request r, const text_callback& cb = {}) {
    if (r.prompt.empty()) {
      r.prompt = tok_->encode("Let n be a positive integer.", false);
    }
    return generate(*model_, tok_.get(), r, cb);
  }

  testing::temp_dir dir_;
  model_config config_;
  std::unique_ptr<cpu_runner> model_;
  std::unique_ptr<tokenizer> tok_;
};

TEST_F(generation_test, greedy_samples_are_identical_and_hit_the_length) {
  auto out = run({.n = 3, .max_tokens = 10, .sampling = {.temperature = 0, .num_logprobs = 2}});
  ASSERT_EQ(out.size(), 3u);
  for (const auto& c : out) {
    EXPECT_EQ(c.ids, out[0].ids);
    EXPECT_EQ(c.finish, finish_reason::finish_reason_length);
    EXPECT_EQ(c.ids.size(), 10u);
    ASSERT_EQ(c.logprobs.size(), 10u);
    // Greedy picks the top logprob at every step.
    for (size_t s = 0; s < c.ids.size(); ++s) {
      EXPECT_EQ(c.logprobs[s].top_ids[0], c.ids[s]);
    }
  }
  EXPECT_EQ(out[0].text, tok_->decode(out[0].ids, true));
}

TEST_F(generation_test, a_seed_reproduces_a_sampled_run) {
  generate_request r{.n = 4, .max_tokens = 12, .sampling = {.temperature = 1.0f, .seed = 77}};
  auto a = run(r), b = run(r);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].ids, b[i].ids);
  }
  r.sampling.seed = 78;
  auto c = run(r);
  bool any_differs = false;
  for (size_t i = 0; i < a.size(); ++i) {
    any_differs |= a[i].ids != c[i].ids;
  }
  EXPECT_TRUE(any_differs);
}

TEST_F(generation_test, stop_string_truncates_text_and_streaming_matches) {
  // Find a stop string the greedy run will produce: a piece of its own text.
  auto free_run = run({.max_tokens = 12, .sampling = {.temperature = 0}});
  ASSERT_GE(free_run[0].text.size(), 4u);
  std::string stop = free_run[0].text.substr(free_run[0].text.size() / 2, 2);
  std::string streamed;
  auto out = run({.max_tokens = 12, .sampling = {.temperature = 0}, .stop_strings = {stop}},
                 [&](int32_t, std::string_view t) { streamed += t; });
  EXPECT_EQ(out[0].finish, finish_reason::finish_reason_stop);
  EXPECT_EQ(out[0].text, free_run[0].text.substr(0, free_run[0].text.find(stop)));
  EXPECT_EQ(streamed, out[0].text);
}

TEST_F(generation_test, stop_id_ends_with_the_id_kept) {
  auto free_run = run({.max_tokens = 8, .sampling = {.temperature = 0}});
  int32_t third = free_run[0].ids[2];
  auto out = run({.max_tokens = 8, .sampling = {.temperature = 0}, .stop_ids = {third}});
  EXPECT_EQ(out[0].finish, finish_reason::finish_reason_stop);
  ASSERT_LE(out[0].ids.size(), 3u);
  EXPECT_EQ(out[0].ids.back(), third);
}

TEST_F(generation_test, bad_requests_are_refused) {
  EXPECT_THROW(run({.prompt = {1, 2, static_cast<int32_t>(config_.vocab_size)}}), input_error);
  EXPECT_THROW(run({.prompt = {1}, .n = 0}), input_error);
  EXPECT_THROW(run({.prompt = {1}, .max_tokens = 1 << 30}), input_error);
}

} // namespace
} // namespace proofmesh::engine
