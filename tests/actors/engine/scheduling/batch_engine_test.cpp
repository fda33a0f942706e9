// Continuous batching on the CPU runner with a tiny model: whatever the batching, chunking and
// preemption, each request's greedy completion equals generate() run on it alone.
#include "actors/engine/scheduling/batch_engine.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/generation/generation.hpp"
#include "actors/engine/model/cpu_runner.hpp"
#include "actors/engine/model/model_init.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/prefix_samples.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace proofmesh::engine {
namespace {

class batch_engine_test : public ::testing::Test {
protected:
  void SetUp() override {
    init_random_model({.arch = model_arch::model_arch_llama, .seed = 21, .out_dir = dir_.str()});
    config_ = load_model_config(dir_.str());
    runner_ = std::make_unique<cpu_runner>(
        config_, weight_store::open(dir_.str()));
    tok_ = std::make_unique<tokenizer>(tokenizer::from_file(dir_.str("tokenizer.json")));
    for (const char* text : {"Let n be a positive integer.", "Prove that", "x",
                             "Suppose the claim holds for n - 1; then for n we have",
                             "The sum of two even integers is even because"}) {
      prompts_.push_back(tok_->encode(text, true));
    }
  }

  engine_request request(size_t i, int32_t max_tokens) {
    return {.prompt = prompts_[i], .max_tokens = max_tokens,
            .sampling = {.temperature = 0, .num_logprobs = 2}, .stream = i};
  }

  // A request's ids run alone on a fresh CPU runner.
  std::vector<int32_t> solo(const engine_request& r) {
    cpu_runner runner(config_, weight_store::open(dir_.str()));
    return testing::run_alone(runner, r, 1000);
  }

  completion alone(size_t i, int32_t max_tokens) {
    cpu_runner runner(config_, weight_store::open(dir_.str()));
    return generate(runner, tok_.get(),
                    {.prompt = prompts_[i], .max_tokens = max_tokens,
                     .sampling = {.temperature = 0, .num_logprobs = 2}},
                    {})[0];
  }

  // Runs every prompt through one engine; returns completions and the streamed text per request.
  std::map<request_id, completion> run_all(const scheduler_config& config, int32_t max_tokens,
                                           std::map<request_id, std::string>* streamed = nullptr,
                                           int64_t* preemptions = nullptr) {
    batch_engine engine(*runner_, tok_.get(), config);
    std::map<request_id, completion> done;
    for (size_t i = 0; i < prompts_.size(); ++i) {
      engine.submit(request(i, max_tokens));
    }
    for (int steps = 0; !engine.idle(); ++steps) {
      EXPECT_LT(steps, 2000);
      for (auto& e : engine.step()) {
        if (streamed) {
          (*streamed)[e.id] += e.text;
        }
        if (e.finished) {
          done[e.id] = *e.finished;
        }
      }
    }
    if (preemptions) {
      *preemptions = engine.planner().num_preemptions();
    }
    return done;
  }

  testing::temp_dir dir_;
  model_config config_;
  std::unique_ptr<cpu_runner> runner_;
  std::unique_ptr<tokenizer> tok_;
  std::vector<std::vector<int32_t>> prompts_;
};

TEST_F(batch_engine_test, batched_chunked_and_preempted_runs_equal_solo_runs) {
  const int32_t max_tokens = 10;
  std::vector<completion> solo;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    solo.push_back(alone(i, max_tokens));
  }
  struct setting {
    scheduler_config config;
    bool expect_preemption;
  };
  for (const setting& s : {
           setting{{.max_running = 16, .max_step_tokens = 4096, .block_size = 4,
                    .total_blocks = 1000}, false},                 // everything in one batch
           setting{{.max_running = 2, .max_step_tokens = 5, .block_size = 4,
                    .total_blocks = 1000}, false},                 // chunked prefill, 2 at a time
           setting{{.max_running = 8, .max_step_tokens = 64, .block_size = 2,
                    .total_blocks = 20}, true}}) {                 // tight cache: preemption
    std::map<request_id, std::string> streamed;
    int64_t preemptions = 0;
    auto done = run_all(s.config, max_tokens, &streamed, &preemptions);
    ASSERT_EQ(done.size(), prompts_.size());
    for (size_t i = 0; i < prompts_.size(); ++i) {
      const completion& c = done.at(static_cast<request_id>(i));
      EXPECT_EQ(c.ids, solo[i].ids) << "request " << i;
      EXPECT_EQ(c.text, solo[i].text) << "request " << i;
      EXPECT_EQ(streamed[static_cast<request_id>(i)], c.text);
      ASSERT_EQ(c.logprobs.size(), solo[i].logprobs.size());
      for (size_t t = 0; t < c.logprobs.size(); ++t) {
        EXPECT_EQ(c.logprobs[t].top_ids, solo[i].logprobs[t].top_ids);
      }
    }
    EXPECT_EQ(preemptions > 0, s.expect_preemption) << preemptions << " preemptions";
  }
}

TEST_F(batch_engine_test, samples_of_one_prompt_prefill_it_once) {
  // Eight sampled completions of one 21-token prompt, submitted together: one request computes
  // the prompt; the other seven wait for it, draw their first tokens from its logits in the same
  // step, fork its cache and decode alongside it. Each equals its own run alone (a request's
  // draws follow its seed and stream, whatever ran beside it).
  const std::vector<int32_t> prompt = testing::prefix_sample_prompt(config_.vocab_size);
  batch_engine engine(*runner_, nullptr, {.max_running = 16, .max_step_tokens = 4096,
                                          .block_size = 4, .total_blocks = 1000});
  for (uint64_t i = 0; i < 8; ++i) {
    engine.submit(testing::prefix_sample(prompt, i));
  }
  const auto done = testing::run_to_end(engine);
  ASSERT_EQ(done.size(), 8u);
  // The leader's 21 prompt tokens, then 5 decodes each: the followers compute no prompt token.
  EXPECT_EQ(engine.num_computed_tokens(), 21 + 8 * 5);
  std::set<std::vector<int32_t>> distinct;
  for (const auto& [id, ids] : done) {
    distinct.insert(ids);
  }
  EXPECT_GT(distinct.size(), 1u) << "the streams drew alike: the comparison below shows nothing";
  for (uint64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(done.at(static_cast<request_id>(i)), solo(testing::prefix_sample(prompt, i)))
        << "stream " << i;
  }
}

TEST_F(batch_engine_test, twins_past_the_running_cap_and_other_followers_take_the_usual_way) {
  // Eight samples of one prompt under a cap of 3 running: the leader and two twins start in the
  // prompt's step, the others wait for room and then fork the (ended) leader's cache up to its
  // last prompt token, computing that one. A ninth request shares the prompt's full blocks
  // but not its last token: a follower, not a twin. One twin is cancelled before any step.
  // Every completion equals its run alone.
  const std::vector<int32_t> prompt = testing::prefix_sample_prompt(config_.vocab_size);
  std::vector<int32_t> other = prompt;
  other.back() = (other.back() + 1) % static_cast<int32_t>(config_.vocab_size);
  batch_engine engine(*runner_, nullptr, {.max_running = 3, .max_step_tokens = 4096,
                                          .block_size = 4, .total_blocks = 1000});
  std::vector<engine_request> requests;
  for (uint64_t i = 0; i < 8; ++i) {
    requests.push_back(testing::prefix_sample(prompt, i));
  }
  requests.push_back(testing::prefix_sample(other, 8));
  for (const engine_request& r : requests) {
    engine.submit(r);
  }
  engine.cancel(1);
  const auto done = testing::run_to_end(engine);
  ASSERT_EQ(done.size(), 9u);
  EXPECT_TRUE(done.at(1).empty());
  // The leader's 21 tokens; one each for the four late twins (#1 is cancelled, #2 and #3 join in
  // the prompt's step) and the ninth request (whose 20 shared tokens are 5 full blocks); 5
  // decodes for each of the eight that ran.
  EXPECT_EQ(engine.num_computed_tokens(), 21 + 4 + 1 + 8 * 5);
  for (uint64_t i = 0; i < requests.size(); ++i) {
    if (i == 1) {
      continue;
    }
    EXPECT_EQ(done.at(static_cast<request_id>(i)), solo(requests[i])) << "request " << i;
  }
}

TEST_F(batch_engine_test, twins_under_a_tight_cache_are_preempted_and_still_equal_their_runs) {
  // Four samples of a 21-token prompt with 20 blocks of 4 in all: the twins join the prompt's
  // step holding no block of their own, but this runner has no pool, so the planner counts every
  // running sequence's blocks in full (24 of 20) and the next decodes preempt. Preemption
  // credits only blocks a victim holds alone (none, for a twin or its leader), so a step can
  // preempt everything and plan nothing; the engine then plans again against the blocks the
  // victims gave back. Every completion equals its run alone.
  const std::vector<int32_t> prompt = testing::prefix_sample_prompt(config_.vocab_size);
  batch_engine engine(*runner_, nullptr, {.max_running = 8, .max_step_tokens = 4096,
                                          .block_size = 4, .total_blocks = 20});
  for (uint64_t i = 0; i < 4; ++i) {
    engine.submit(testing::prefix_sample(prompt, i));
  }
  const auto done = testing::run_to_end(engine);
  ASSERT_EQ(done.size(), 4u);
  EXPECT_GT(engine.planner().num_preemptions(), 0)
      << "the cache was not tight: nothing was tested";
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(done.at(static_cast<request_id>(i)), solo(testing::prefix_sample(prompt, i)))
        << "stream " << i;
  }
}

TEST_F(batch_engine_test, cancel_ends_a_request_with_what_it_has) {
  batch_engine engine(*runner_, tok_.get(),
                      {.max_running = 8, .max_step_tokens = 4096, .block_size = 4,
                       .total_blocks = 1000});
  request_id a = engine.submit(request(0, 50));
  request_id b = engine.submit(request(1, 5));
  engine.step();
  engine.step();
  engine.cancel(a);
  std::optional<completion> cancelled;
  bool saw_b = false;
  while (!engine.idle()) {
    for (auto& e : engine.step()) {
      if (e.id == a && e.finished) {
        EXPECT_TRUE(e.cancelled);
        cancelled = e.finished;
      }
      saw_b |= e.id == b && e.finished.has_value();
    }
  }
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->ids.size(), 2u);
  EXPECT_TRUE(saw_b);
}

TEST_F(batch_engine_test, refuses_bad_requests) {
  batch_engine engine(*runner_, tok_.get(),
                      {.max_running = 8, .max_step_tokens = 64, .block_size = 4,
                       .total_blocks = 3});
  EXPECT_THROW(engine.submit({.prompt = {}, .max_tokens = 4}), input_error);
  EXPECT_THROW(engine.submit({.prompt = {1, static_cast<int32_t>(config_.vocab_size)},
                              .max_tokens = 4}),
               input_error);
  EXPECT_THROW(engine.submit({.prompt = std::vector<int32_t>(20, 1), .max_tokens = 4}),
               input_error); // 24 tokens need 6 blocks of 4; the engine has 3
  // Sampling settings that would fail a step later are refused now.
  for (const sampling_params& bad :
       {sampling_params{.num_logprobs = 129}, sampling_params{.num_logprobs = -1},
        sampling_params{.temperature = NAN}, sampling_params{.temperature = -1},
        sampling_params{.top_p = 0}, sampling_params{.top_p = NAN}, sampling_params{.top_k = -2}}) {
    EXPECT_THROW(engine.submit({.prompt = {1, 2}, .max_tokens = 2, .sampling = bad}), input_error);
  }
  EXPECT_NO_THROW(engine.submit({.prompt = {1, 2}, .max_tokens = 2,
                                 .sampling = {.num_logprobs = 128}}));
  EXPECT_FALSE(engine.idle());
}

} // namespace
} // namespace proofmesh::engine
