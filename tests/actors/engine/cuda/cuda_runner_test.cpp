// The CUDA runner against the CPU runner and against transformers (golden data), on the tiny
// models transformers wrote: Llama, Qwen2, Qwen3, and DeepSeek-V3 / V3.2 (MLA, MoE, the indexer,
// FP8 weights dequantised on the device). Tolerances: in float32 both backends differ only in summation order
// (~1e-6 relative), so logits must agree to 1e-4 and greedy ids exactly. In bf16 every weight and
// activation is rounded to 8 mantissa bits; logits move by a few percent of their range, so we
// check 5e-2 relative and that the bf16 argmax is one of the float32 top 3.
#include "actors/common/error.hpp"
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/model/cpu_runner.hpp"
#include "actors/engine/sampling/sampler.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/max_rel_diff.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/source_path.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace proofmesh::engine {
namespace {

using nlohmann::json;

struct loaded_model {
  model_config config;
  weight_store weights; // read at each runner's load
  json expected;
};

loaded_model load(const std::string& arch) {
  const bool deepseek = arch.starts_with("deepseek");
  std::string dir = testing::source_path("tests/golden/data/" +
                                         std::string(deepseek ? "deepseek/" : "hf/") + arch);
  loaded_model m;
  m.config = load_model_config(dir);
  m.weights = weight_store::open(dir);
  m.expected = json::parse(testing::read_file(dir + "/expected.json"));
  return m;
}

using testing::max_rel_diff;

int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

class cuda_runner_test : public ::testing::TestWithParam<const char*> {
protected:
  void SetUp() override {
    std::string why;
    if (!cuda_device_available(&why)) {
      GTEST_SKIP() << "needs a CUDA GPU: " << why;
    }
    model_ = load(GetParam());
  }

  std::unique_ptr<model_runner> gpu(compute_dtype dtype, int32_t block_size = 4) {
    return make_cuda_runner(model_.config, model_.weights,
                            {.dtype = dtype, .block_size = block_size, .num_kv_blocks = 256});
  }

  loaded_model model_;
};

TEST_P(cuda_runner_test, f32_prefill_logits_match_cpu) {
  cpu_runner cpu(model_.config, model_.weights);
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  runner_item a{.seq = cpu.create_sequence(), .tokens = prompt, .all_logits = true};
  runner_item b{.seq = cuda->create_sequence(), .tokens = prompt, .all_logits = true};
  auto ref = cpu.forward(std::span(&a, 1));
  auto got = cuda->forward(std::span(&b, 1));
  ASSERT_EQ(got.size(), ref.size());
  EXPECT_LT(max_rel_diff(got, ref), 1e-4);
}

TEST_P(cuda_runner_test, f32_greedy_matches_transformers) {
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  std::vector<int32_t> tokens = model_.expected["prompt_ids"];
  const auto& ref_ids = model_.expected["greedy_ids"];
  const auto& ref_lp = model_.expected["greedy_logprobs"];
  sequence_id seq = cuda->create_sequence();
  std::vector<int32_t> next = tokens;
  for (size_t step = 0; step < ref_ids.size(); ++step) {
    runner_item item{.seq = seq, .tokens = next};
    auto logits = cuda->forward(std::span(&item, 1));
    int32_t id = argmax(logits);
    ASSERT_EQ(id, ref_ids[step].get<int32_t>()) << "step " << step;
    auto lp = top_logprobs(logits, 5);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_NEAR(lp.top_logprobs[k], ref_lp[step]["top_logprobs"][k].get<double>(), 1e-4);
    }
    next = {id};
  }
}

TEST_P(cuda_runner_test, forks_and_mixed_batches_match_cpu) {
  // Block size 4 and a 9-token prompt: the forks share two full blocks and a partial one, which
  // each must copy before writing. One step mixes a prefill with decodes.
  cpu_runner cpu(model_.config, model_.weights);
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  sequence_id cp = cpu.create_sequence(), gp = cuda->create_sequence();
  runner_item pa{.seq = cp, .tokens = prompt}, pb{.seq = gp, .tokens = prompt};
  cpu.forward(std::span(&pa, 1));
  cuda->forward(std::span(&pb, 1));
  std::vector<sequence_id> cs, gs;
  for (int i = 0; i < 3; ++i) {
    cs.push_back(cpu.fork_sequence(cp));
    gs.push_back(cuda->fork_sequence(gp));
  }
  std::vector<int32_t> fresh = {5, 6, 7, 8, 9, 10};
  sequence_id cf = cpu.create_sequence(), gf = cuda->create_sequence();
  for (int step = 0; step < 6; ++step) {
    std::vector<std::vector<int32_t>> toks = {{10 + step}, {20 + step}, {30 + step}};
    std::vector<runner_item> ci, gi;
    for (int i = 0; i < 3; ++i) {
      ci.push_back({.seq = cs[static_cast<size_t>(i)], .tokens = toks[static_cast<size_t>(i)]});
      gi.push_back({.seq = gs[static_cast<size_t>(i)], .tokens = toks[static_cast<size_t>(i)]});
    }
    if (step == 2) {
      ci.push_back({.seq = cf, .tokens = fresh, .all_logits = true});
      gi.push_back({.seq = gf, .tokens = fresh, .all_logits = true});
    }
    auto ref = cpu.forward(ci);
    auto got = cuda->forward(gi);
    ASSERT_EQ(got.size(), ref.size());
    EXPECT_LT(max_rel_diff(got, ref), 1e-4) << "step " << step;
  }
  for (auto s : gs) {
    cuda->release_sequence(s);
  }
}

TEST_P(cuda_runner_test, fork_prefix_shares_a_partial_block_and_copies_it_on_write) {
  // Block size 4: the parent holds 9 prompt tokens; a child forked at 6 shares blocks 0 and 1
  // (half of it), writes its own token at position 6 (copying block 1 first), and both then
  // match the CPU on their own histories.
  cpu_runner cpu(model_.config, model_.weights);
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  sequence_id parent = cuda->create_sequence();
  runner_item pre{.seq = parent, .tokens = prompt};
  cuda->forward(std::span(&pre, 1));
  std::optional<sequence_id> child = cuda->fork_prefix(parent, 6);
  ASSERT_TRUE(child.has_value());
  std::vector<int32_t> one = {33};
  runner_item step{.seq = *child, .tokens = one};
  std::vector<int32_t> child_history(prompt.begin(), prompt.begin() + 6);
  child_history.push_back(33);
  runner_item ref{.seq = cpu.create_sequence(), .tokens = child_history};
  EXPECT_LT(max_rel_diff(cuda->forward(std::span(&step, 1)), cpu.forward(std::span(&ref, 1))),
            1e-4);
  // The parent's block 1 is untouched by the child's write.
  std::vector<int32_t> next = {44};
  runner_item parent_step{.seq = parent, .tokens = next};
  std::vector<int32_t> parent_history = prompt;
  parent_history.push_back(44);
  runner_item parent_ref{.seq = cpu.create_sequence(), .tokens = parent_history};
  EXPECT_LT(max_rel_diff(cuda->forward(std::span(&parent_step, 1)),
                         cpu.forward(std::span(&parent_ref, 1))),
            1e-4);
}

TEST_P(cuda_runner_test, bf16_logits_stay_close_to_f32) {
  auto f32 = gpu(compute_dtype::compute_dtype_f32);
  auto bf16 = gpu(compute_dtype::compute_dtype_bf16, 16);
  std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  runner_item a{.seq = f32->create_sequence(), .tokens = prompt, .all_logits = true};
  runner_item b{.seq = bf16->create_sequence(), .tokens = prompt, .all_logits = true};
  auto ref = f32->forward(std::span(&a, 1));
  auto got = bf16->forward(std::span(&b, 1));
  // DeepSeek chooses experts (and V3.2 keys) by top-k. The tiny models keep a relative margin of
  // 1e-3 at every choice, below bf16's 3.9e-3 rounding, so a choice may flip in bf16 and move a
  // position's logits by a few tenths of their range (0.28 measured on deepseek_v3); a wrong
  // formula moves them by about 1. Dense models have no such cliff.
  EXPECT_LT(max_rel_diff(got, ref), model_.config.is_deepseek() ? 0.4 : 5e-2);
  const size_t vocab = static_cast<size_t>(model_.config.vocab_size);
  for (size_t t = 0; t < prompt.size(); ++t) {
    std::span<const float> row(ref.data() + t * vocab, vocab);
    int32_t top = argmax(std::span<const float>(got.data() + t * vocab, vocab));
    auto lp = top_logprobs(row, 3);
    EXPECT_NE(std::find(lp.top_ids.begin(), lp.top_ids.end(), top), lp.top_ids.end())
        << "position " << t;
  }
}

TEST_P(cuda_runner_test, prefix_cache_reuses_full_blocks_and_keeps_logits) {
  // Block size 4, 9-token prompt: a repeat reuses 2 full blocks (8 tokens) and computes the last
  // token; a prompt differing at position 5 reuses only the first block. Logits match the CPU.
  cpu_runner cpu(model_.config, model_.weights);
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  ASSERT_EQ(prompt.size(), 9u);
  std::vector<int32_t> variant = prompt;
  variant[5] = (variant[5] + 1) % static_cast<int32_t>(model_.config.vocab_size);
  auto cpu_logits = [&](const std::vector<int32_t>& tokens) {
    runner_item item{.seq = cpu.create_sequence(), .tokens = tokens};
    return cpu.forward(std::span(&item, 1));
  };
  auto gpu_logits = [&](const std::vector<int32_t>& tokens, sequence_id seq) {
    runner_item item{.seq = seq, .tokens = tokens};
    return cuda->forward(std::span(&item, 1));
  };
  sequence_id first = cuda->create_sequence();
  auto cold = gpu_logits(prompt, first);
  cuda->release_sequence(first);
  EXPECT_EQ(cuda->stats().prefix_hit_tokens, 0);

  sequence_id again = cuda->create_sequence();
  auto warm = gpu_logits(prompt, again);
  EXPECT_EQ(cuda->stats().prefix_hit_tokens, 8);
  EXPECT_LT(max_rel_diff(warm, cold), 1e-4);
  EXPECT_LT(max_rel_diff(warm, cpu_logits(prompt)), 1e-4);

  sequence_id other = cuda->create_sequence();
  auto partial = gpu_logits(variant, other);
  EXPECT_EQ(cuda->stats().prefix_hit_tokens, 12);
  EXPECT_LT(max_rel_diff(partial, cpu_logits(variant)), 1e-4);

  // Decoding on after a hit reads the shared blocks correctly.
  sequence_id ref = cpu.create_sequence();
  runner_item cpu_prefill{.seq = ref, .tokens = prompt};
  cpu.forward(std::span(&cpu_prefill, 1));
  for (int32_t t : {3, 14, 15}) {
    std::vector<int32_t> one = {t};
    runner_item a{.seq = ref, .tokens = one}, b{.seq = again, .tokens = one};
    EXPECT_LT(max_rel_diff(cuda->forward(std::span(&b, 1)), cpu.forward(std::span(&a, 1))), 1e-4);
  }
}

TEST_P(cuda_runner_test, prefix_cache_evicts_least_recently_used_blocks_when_full) {
  // Four blocks in all: a second, unrelated 9-token prompt needs three, so the first prompt's
  // cached blocks are evicted and a repeat of it is a miss that still computes the right logits.
  auto cuda = make_cuda_runner(model_.config, model_.weights,
                               {.dtype = compute_dtype::compute_dtype_f32, .block_size = 4,
                                .num_kv_blocks = 4});
  cpu_runner cpu(model_.config, model_.weights);
  std::vector<int32_t> a = model_.expected["prompt_ids"];
  std::vector<int32_t> b = {11, 12, 13, 14, 15, 16, 17, 18, 19};
  for (const auto* tokens : {&a, &b, &a}) {
    sequence_id s = cuda->create_sequence();
    runner_item item{.seq = s, .tokens = *tokens};
    auto got = cuda->forward(std::span(&item, 1));
    cuda->release_sequence(s);
    runner_item ref{.seq = cpu.create_sequence(), .tokens = *tokens};
    EXPECT_LT(max_rel_diff(got, cpu.forward(std::span(&ref, 1))), 1e-4);
  }
  EXPECT_EQ(cuda->stats().prefix_hit_tokens, 0);
  EXPECT_EQ(cuda->stats().free_kv_blocks, 4);
}

TEST_P(cuda_runner_test, a_step_the_pool_cannot_hold_together_fails_as_bad_input) {
  // Four blocks of 4: each 9-token prompt needs three, so either fits alone and both together
  // do not. The step is refused before any append (a typed error, the process keeps running),
  // and the pool is whole again once the caller lets the sequences go.
  auto cuda = make_cuda_runner(model_.config, model_.weights,
                               {.dtype = compute_dtype::compute_dtype_f32, .block_size = 4,
                                .num_kv_blocks = 4});
  std::vector<int32_t> a = model_.expected["prompt_ids"];
  std::vector<int32_t> b = {11, 12, 13, 14, 15, 16, 17, 18, 19};
  ASSERT_EQ(a.size(), 9u);
  const sequence_id sa = cuda->create_sequence(), sb = cuda->create_sequence();
  std::vector<runner_item> both{{.seq = sa, .tokens = a}, {.seq = sb, .tokens = b}};
  EXPECT_THROW(cuda->forward(both), input_error);
  cuda->release_sequence(sa);
  cuda->release_sequence(sb);
  EXPECT_EQ(cuda->stats().free_kv_blocks, 4);
  cpu_runner cpu(model_.config, model_.weights);
  runner_item alone{.seq = cuda->create_sequence(), .tokens = b};
  runner_item ref{.seq = cpu.create_sequence(), .tokens = b};
  EXPECT_LT(max_rel_diff(cuda->forward(std::span(&alone, 1)), cpu.forward(std::span(&ref, 1))),
            1e-4);
}

TEST_P(cuda_runner_test, device_sampling_greedy_matches_cpu_logits) {
  cpu_runner cpu(model_.config, model_.weights);
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  std::vector<std::vector<int32_t>> prompts = {model_.expected["prompt_ids"], {4, 8, 15, 16}, {42}};
  std::vector<runner_item> ci, gi;
  std::vector<sample_spec> specs;
  for (const auto& p : prompts) {
    ci.push_back({.seq = cpu.create_sequence(), .tokens = p});
    gi.push_back({.seq = cuda->create_sequence(), .tokens = p});
    specs.push_back({.params = {.temperature = 0, .num_logprobs = 5}});
  }
  auto logits = cpu.forward(ci);
  ASSERT_TRUE(cuda->samples_on_device());
  auto picked = cuda->forward_sample(gi, specs);
  const size_t vocab = static_cast<size_t>(model_.config.vocab_size);
  for (size_t r = 0; r < prompts.size(); ++r) {
    std::span<const float> row(logits.data() + r * vocab, vocab);
    auto ref = top_logprobs(row, 5);
    EXPECT_EQ(picked[r].token, argmax(row)) << r;
    EXPECT_EQ(picked[r].logprobs.top_ids, ref.top_ids) << r;
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_NEAR(picked[r].logprobs.top_logprobs[k], ref.top_logprobs[k], 1e-4);
    }
  }
  // Sampled draws: reproducible for the same (seed, stream, step), inside the top-k set.
  std::vector<sample_spec> hot(prompts.size(), {.params = {.temperature = 1.0f, .top_k = 3,
                                                           .seed = 5}});
  auto again = [&] {
    std::vector<runner_item> items;
    for (const auto& p : prompts) {
      items.push_back({.seq = cuda->create_sequence(), .tokens = p});
    }
    return cuda->forward_sample(items, hot);
  };
  auto a = again(), b = again();
  for (size_t r = 0; r < prompts.size(); ++r) {
    EXPECT_EQ(a[r].token, b[r].token);
    std::span<const float> row(logits.data() + r * vocab, vocab);
    auto top3 = top_logprobs(row, 3).top_ids;
    EXPECT_NE(std::find(top3.begin(), top3.end(), a[r].token), top3.end());
  }
}

TEST_P(cuda_runner_test, draws_of_one_item_equal_draws_of_its_copies) {
  // n samples of one prompt: one item drawn 6 times (streams 0..5, with logprobs) beside an
  // item drawn once, against the same specs on 6 separate copies of the prompt. Draws are keyed
  // by (seed, stream, step), so each must match its copy's, and the streams must not all agree.
  auto cuda = gpu(compute_dtype::compute_dtype_f32);
  const std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  const std::vector<int32_t> other = {4, 8, 15, 16};
  std::vector<sample_spec> specs;
  for (uint64_t i = 0; i < 6; ++i) {
    specs.push_back({.params = {.temperature = 1.0f, .seed = 5, .num_logprobs = 3}, .stream = i});
  }
  const sample_spec lone{.params = {.temperature = 0}};
  std::vector<runner_item> shared = {
      {.seq = cuda->create_sequence(), .tokens = prompt, .draws = 6},
      {.seq = cuda->create_sequence(), .tokens = other}};
  std::vector<sample_spec> shared_specs = specs;
  shared_specs.push_back(lone);
  const auto got = cuda->forward_sample(shared, shared_specs);
  ASSERT_EQ(got.size(), 7u);
  std::vector<runner_item> copies;
  for (int i = 0; i < 6; ++i) {
    copies.push_back({.seq = cuda->create_sequence(), .tokens = prompt});
  }
  copies.push_back({.seq = cuda->create_sequence(), .tokens = other});
  const auto want = cuda->forward_sample(copies, shared_specs);
  std::set<int32_t> tokens;
  for (size_t r = 0; r < 7; ++r) {
    EXPECT_EQ(got[r].token, want[r].token) << r;
    EXPECT_EQ(got[r].logprobs.top_ids, want[r].logprobs.top_ids) << r;
    if (r < 6) {
      EXPECT_NEAR(got[r].logprobs.token_logprob, want[r].logprobs.token_logprob, 1e-4) << r;
      tokens.insert(got[r].token);
    }
  }
  EXPECT_GT(tokens.size(), 1u) << "the streams drew alike: the comparison shows nothing";
}

TEST_P(cuda_runner_test, decode_graphs_match_eager_steps) {
  // Graph replay against eager launches over batch sizes 1, 3, 5 and 9 (padded to buckets 1, 4,
  // 8 and 16), contexts that outgrow the 8-block table width (block size 4, 40+ tokens), and a
  // long prefill in between that grows the scratch buffers, so stale graphs would read freed
  // memory.
  auto graphs = make_cuda_runner(model_.config, model_.weights,
                                 {.dtype = compute_dtype::compute_dtype_f32, .block_size = 4,
                                  .num_kv_blocks = 512});
  auto eager = make_cuda_runner(model_.config, model_.weights,
                                {.dtype = compute_dtype::compute_dtype_f32, .block_size = 4,
                                 .num_kv_blocks = 512, .cuda_graphs = false});
  std::vector<int32_t> prompt = model_.expected["prompt_ids"];
  std::vector<sequence_id> gs, es;
  const auto vocab = static_cast<int32_t>(model_.config.vocab_size);
  for (int step = 0; step < 48; ++step) {
    const size_t want = step < 12 ? 1 : step < 24 ? 3 : step < 36 ? 5 : 9;
    while (gs.size() < want) {
      gs.push_back(graphs->create_sequence());
      es.push_back(eager->create_sequence());
      runner_item a{.seq = gs.back(), .tokens = prompt}, b{.seq = es.back(), .tokens = prompt};
      ASSERT_LT(max_rel_diff(graphs->forward(std::span(&a, 1)), eager->forward(std::span(&b, 1))),
                1e-4);
    }
    if (step == 30) {
      std::vector<int32_t> long_prompt(300);
      for (size_t i = 0; i < long_prompt.size(); ++i) {
        long_prompt[i] = static_cast<int32_t>((i * 37) % static_cast<size_t>(vocab));
      }
      runner_item a{.seq = graphs->create_sequence(), .tokens = long_prompt};
      runner_item b{.seq = eager->create_sequence(), .tokens = long_prompt};
      ASSERT_LT(max_rel_diff(graphs->forward(std::span(&a, 1)), eager->forward(std::span(&b, 1))),
                1e-4);
      graphs->release_sequence(a.seq);
      eager->release_sequence(b.seq);
    }
    std::vector<std::vector<int32_t>> toks(gs.size());
    std::vector<runner_item> gi, ei;
    for (size_t i = 0; i < gs.size(); ++i) {
      toks[i] = {static_cast<int32_t>((step * 13 + static_cast<int>(i) * 7) % vocab)};
      gi.push_back({.seq = gs[i], .tokens = toks[i]});
      ei.push_back({.seq = es[i], .tokens = toks[i]});
    }
    auto got = graphs->forward(gi);
    auto ref = eager->forward(ei);
    ASSERT_EQ(got.size(), ref.size());
    ASSERT_LT(max_rel_diff(got, ref), 1e-4) << "step " << step;
  }
  EXPECT_EQ(eager->stats().graph_steps, 0);
  if (model_.config.is_deepseek()) {
    // Its MoE reads the routing back mid-step: the runner never captures a DeepSeek step.
    EXPECT_EQ(graphs->stats().graph_steps, 0);
    return;
  }
  EXPECT_EQ(graphs->stats().graph_steps, 48);
  // Buckets 1, 4, 8, 16, widths 8 and 16, and a recapture after the prefill grew the scratch.
  EXPECT_GE(graphs->stats().graph_captures, 5);
}

INSTANTIATE_TEST_SUITE_P(archs, cuda_runner_test,
                         ::testing::Values("llama", "qwen2", "qwen3", "deepseek_v3",
                                           "deepseek_v3_no_qlora", "deepseek_v32",
                                           "deepseek_v32_fp8"));

} // namespace
} // namespace proofmesh::engine
