// Long prompts through the batch engine: a 128K-token prompt prefilled in chunks of 8,192 tokens
// while short requests decode in the same steps, and two long requests in a pool too small for
// both, so that the younger is preempted at long context and recomputed. Float32 on the tiny
// golden models (their position limit raised; RoPE needs no table), so that greedy ids compare
// exactly: each request's ids equal its run alone with its whole prompt in one step, and what it
// streamed is those ids, each once. Below the ids, the logits of chunked prefills among decodes
// and of the decode after them equal the whole prompt's (and, on the GPU, the CPU backend's):
// the check that found the split merge's shuffle skipped by idle lanes at head_dim 8. On the CUDA runner at full size; on the CPU backend, in
// `make test`, at 1/16 of every length (8K prompt, 512-token steps: the same step counts), as a
// 128K prompt there takes tens of minutes. (Kept out of the memcheck pass: a 128K prompt on the
// CUDA-core attention is long under the sanitizer; the kernel tests memcheck the attention
// kernels at 128K.)
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/model/cpu_runner.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/source_path.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <random>

namespace proofmesh::engine {
namespace {

constexpr int32_t block = 16;

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

// What a run of requests through one engine produced, per request (in submission order).
struct outcome {
  std::vector<std::vector<int32_t>> ids;      // the finished completion's ids
  std::vector<std::vector<int32_t>> streamed; // the tokens its events carried, in order
  std::vector<std::vector<int64_t>> steps;    // the step each streamed token came in
};

struct long_case {
  const char* arch;
  bool cuda;
};

void PrintTo(const long_case& c, std::ostream* os) { *os << c.arch << (c.cuda ? " cuda" : " cpu"); }

class long_prompt_test : public ::testing::TestWithParam<long_case> {
protected:
  void SetUp() override {
    std::string why;
    if (GetParam().cuda && !cuda_device_available(&why)) {
      GTEST_SKIP() << "needs a CUDA GPU: " << why;
    }
    scale_ = GetParam().cuda ? 1 : 16;
    const std::string dir =
        testing::source_path(std::string("tests/golden/data/hf/") + GetParam().arch);
    config_ = load_model_config(dir);
    config_.max_position_embeddings = 1 << 18;
    weights_ = weight_store::open(dir);
  }

  std::unique_ptr<model_runner> runner(int32_t blocks) {
    if (!GetParam().cuda) {
      return std::make_unique<cpu_runner>(config_, weights_);
    }
    return make_cuda_runner(config_, weights_, {.dtype = compute_dtype::compute_dtype_f32,
                                                .block_size = block, .num_kv_blocks = blocks});
  }

  // A length of the full-size case, at this backend's scale.
  int32_t sized(int32_t full) const { return full / scale_; }

  engine_request greedy(int64_t prompt_tokens, int32_t max_tokens, uint32_t seed) const {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(config_.vocab_size) - 1);
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
    for (int32_t& t : prompt) {
      t = id(rng);
    }
    return {.prompt = std::move(prompt), .max_tokens = max_tokens,
            .sampling = {.temperature = 0}};
  }

  static outcome run(batch_engine& engine, const std::vector<engine_request>& requests) {
    std::map<request_id, size_t> index;
    for (const engine_request& r : requests) {
      const size_t i = index.size();
      index[engine.submit(r)] = i;
    }
    outcome out{.ids = std::vector<std::vector<int32_t>>(requests.size()),
                .streamed = std::vector<std::vector<int32_t>>(requests.size()),
                .steps = std::vector<std::vector<int64_t>>(requests.size())};
    for (int64_t step = 0; !engine.idle() && step < 20000; ++step) {
      for (const engine_event& e : engine.step()) {
        const size_t i = index.at(e.id);
        if (e.token >= 0) {
          out.streamed[i].push_back(e.token);
          out.steps[i].push_back(step);
        }
        if (e.finished) {
          out.ids[i] = e.finished->ids;
        }
      }
    }
    return out;
  }

  // The request on a runner of its own, its whole prompt in one step.
  std::vector<int32_t> alone(const engine_request& r) {
    const int64_t tokens = static_cast<int64_t>(r.prompt.size()) + r.max_tokens;
    const int32_t pool = static_cast<int32_t>((tokens + block - 1) / block + 2);
    auto own = runner(pool);
    batch_engine engine(*own, nullptr, {.max_running = 1, .max_step_tokens = tokens,
                                        .block_size = block, .total_blocks = pool});
    return run(engine, {r}).ids[0];
  }

  model_config config_;
  weight_store weights_;
  int32_t scale_ = 1;
};

TEST_P(long_prompt_test, a_128k_prompt_prefills_in_chunks_among_decodes) {
  // The short requests arrive first: running sequences' decodes go before chunked prefills in
  // every step's budget (a request arriving after the long one waits for its whole prefill).
  const std::vector<engine_request> requests = {greedy(9, 40, 1), greedy(5, 40, 3),
                                                greedy(sized(131072), 8, 2)};
  const int32_t pool = sized(131072) / block + 64;
  auto r = runner(pool);
  batch_engine engine(*r, nullptr, {.max_running = 8, .max_step_tokens = sized(8192),
                                    .block_size = block, .total_blocks = pool});
  const outcome got = run(engine, requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(got.ids[i].size(), static_cast<size_t>(requests[i].max_tokens)) << "request " << i;
    EXPECT_EQ(got.ids[i], alone(requests[i])) << "request " << i;
    EXPECT_EQ(got.streamed[i], got.ids[i]) << "request " << i;
  }
  EXPECT_EQ(engine.planner().num_preemptions(), 0);
  // The long prompt takes 16 steps; the short requests decode meanwhile.
  ASSERT_FALSE(got.steps[2].empty());
  const int64_t long_first = got.steps[2].front();
  EXPECT_GE(long_first, 15);
  for (size_t i : {size_t{0}, size_t{1}}) {
    const auto before = std::count_if(got.steps[i].begin(), got.steps[i].end(),
                                      [&](int64_t s) { return s < long_first; });
    EXPECT_GE(before, 10) << "request " << i << " waited for the long prefill";
  }
}

TEST_P(long_prompt_test, preemption_at_long_context_loses_and_repeats_nothing) {
  // Prompts of whole blocks (2,560 and 2,048 at full size) in a pool of both plus 2: once both
  // decode, the older's next block is the younger's, which is preempted at 32K tokens and
  // recomputed (again and again while the older runs, as each recompute fills the pool back up).
  const int32_t older = sized(40960), younger = sized(32768);
  const std::vector<engine_request> requests = {greedy(older, 40, 4), greedy(younger, 40, 5)};
  const int32_t pool = older / block + younger / block + 2;
  auto r = runner(pool);
  batch_engine engine(*r, nullptr, {.max_running = 8, .max_step_tokens = sized(8192),
                                    .block_size = block, .total_blocks = pool});
  const outcome got = run(engine, requests);
  EXPECT_GT(engine.planner().num_preemptions(), 0);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(got.ids[i].size(), static_cast<size_t>(requests[i].max_tokens)) << "request " << i;
    EXPECT_EQ(got.ids[i], alone(requests[i])) << "request " << i;
    EXPECT_EQ(got.streamed[i], got.ids[i]) << "request " << i;
  }
}

TEST_P(long_prompt_test, chunked_prefill_and_decode_logits_match_the_whole_prompt) {
  // Below the ids, the logits: one prompt prefilled in one forward, and in chunks of 8,190 tokens
  // (they end inside blocks) with two short neighbours decoding a token in every chunk's forward,
  // as in the engine's mixed steps; then one decode step on each. The last chunk and the decode
  // are small steps over a long context, which split the keys (flash-decoding) where the whole
  // prompt's step does not. On the GPU, the whole prompt is also checked against the CPU backend
  // at the shorter length (the CPU takes a while over 128K). The CPU backend, whose sums run in
  // one order whatever the chunking, takes only the shorter length (512 tokens at its scale).
  for (const int32_t full : {8192, 131072}) {
    if (!GetParam().cuda && full > 8192) {
      continue;
    }
    const engine_request r = greedy(sized(full), 1, 7);
    const std::vector<int32_t> next = {17};
    const int32_t pool = sized(full) / block + 64;
    auto last_row = [&](std::vector<float> rows) {
      rows.resize(static_cast<size_t>(config_.vocab_size));
      return rows;
    };
    std::vector<float> whole, whole_decode;
    {
      auto own = runner(pool);
      const runner_item item{.seq = own->create_sequence(), .tokens = r.prompt};
      whole = own->forward(std::span(&item, 1));
      const runner_item step{.seq = item.seq, .tokens = next};
      whole_decode = own->forward(std::span(&step, 1));
    }
    if (GetParam().cuda && full == 8192) {
      cpu_runner cpu(config_, weights_);
      const runner_item item{.seq = cpu.create_sequence(), .tokens = r.prompt};
      EXPECT_LE(max_abs_diff(whole, cpu.forward(std::span(&item, 1))), 1e-4f);
    }
    auto own = runner(pool);
    const sequence_id seq = own->create_sequence();
    const std::vector<int32_t> short_a = greedy(9, 1, 1).prompt, short_b = greedy(5, 1, 3).prompt;
    const std::vector<runner_item> shorts = {{.seq = own->create_sequence(), .tokens = short_a},
                                             {.seq = own->create_sequence(), .tokens = short_b}};
    own->forward(shorts);
    const auto chunk = static_cast<size_t>(sized(8192) - 2);
    const std::span<const int32_t> prompt(r.prompt);
    std::vector<float> chunked;
    for (size_t at = 0; at < prompt.size(); at += chunk) {
      const std::vector<runner_item> items = {
          {.seq = seq, .tokens = prompt.subspan(at, std::min(chunk, prompt.size() - at))},
          {.seq = shorts[0].seq, .tokens = next},
          {.seq = shorts[1].seq, .tokens = next}};
      chunked = last_row(own->forward(items));
    }
    const runner_item step{.seq = seq, .tokens = next};
    const std::vector<float> chunked_decode = own->forward(std::span(&step, 1));
    // float32 throughout: only the order of the sums differs.
    EXPECT_LE(max_abs_diff(chunked, whole), 1e-4f) << sized(full) << " tokens";
    EXPECT_LE(max_abs_diff(chunked_decode, whole_decode), 1e-4f) << sized(full) << " tokens";
  }
}

INSTANTIATE_TEST_SUITE_P(archs, long_prompt_test,
                         ::testing::Values(long_case{"llama", true}, long_case{"qwen2", true},
                                           long_case{"qwen3", true}, long_case{"llama", false},
                                           long_case{"qwen2", false}, long_case{"qwen3", false}),
                         [](const auto& info) {
                           return std::string(info.param.arch) +
                                  (info.param.cuda ? "_cuda" : "_cpu");
                         });

} // namespace
} // namespace proofmesh::engine
