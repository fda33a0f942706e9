// The one engine config: every field out of range is refused naming its flag, the flags'
// spellings parse both ways, and make_runner builds the backend it names, with the block size the
// scheduler plans with.
#include "actors/engine/runtime/engine_config.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/model/model_init.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(engine_config, each_field_out_of_range_names_its_flag) {
  EXPECT_NO_THROW(check_engine_config({}));
  const std::pair<engine_config, const char*> bad[] = {
      {{.kv_memory_fraction = 0.0}, "--kv-memory-fraction"},
      {{.kv_memory_fraction = 0.99}, "--kv-memory-fraction"},
      {{.num_kv_blocks = -1}, "--kv-blocks"},
      {{.block_size = 0}, "--block-size"},
      {{.block_size = 2048}, "--block-size"},
      {{.max_step_tokens = 0}, "--max-step-tokens"},
      {{.max_running = 0}, "--max-running"},
      {{.max_running = 5000}, "--max-running"},
      {{.device = -1}, "--device"}};
  for (const auto& [config, flag] : bad) {
    EXPECT_THAT([&] { check_engine_config(config); }, ThrowsMessage<input_error>(HasSubstr(flag)))
        << flag;
  }
}

TEST(engine_config, the_flags_spellings_parse) {
  EXPECT_EQ(parse_engine_backend("cpu"), engine_backend::engine_backend_cpu);
  EXPECT_EQ(parse_engine_backend("cuda"), engine_backend::engine_backend_cuda);
  EXPECT_EQ(parse_engine_dtype("auto"), engine_dtype::engine_dtype_auto);
  EXPECT_EQ(parse_engine_dtype("float32"), engine_dtype::engine_dtype_f32);
  EXPECT_EQ(parse_engine_dtype("bfloat16"), engine_dtype::engine_dtype_bf16);
  EXPECT_FALSE(parse_engine_backend("tpu"));
  EXPECT_FALSE(parse_engine_dtype("int4"));
  EXPECT_EQ(parse_kv_cache_dtype("auto"), kv_cache_dtype::kv_cache_dtype_auto);
  EXPECT_EQ(parse_kv_cache_dtype("fp8"), kv_cache_dtype::kv_cache_dtype_fp8);
  EXPECT_EQ(parse_kv_cache_dtype("fp8_e4m3"), kv_cache_dtype::kv_cache_dtype_fp8);
  EXPECT_FALSE(parse_kv_cache_dtype("fp8_e5m2"));
}

// What an FP8 cache cannot have is said before any weight loads (and before the device is
// looked for), naming the flag; the CPU mirror serves any dense model.
TEST(engine_config, an_fp8_cache_is_refused_where_it_cannot_run) {
  testing::temp_dir dir;
  init_random_model({.arch = model_arch::model_arch_qwen3, .seed = 2, .out_dir = dir.str()});
  init_random_model({.arch = model_arch::model_arch_deepseek_v32, .seed = 2,
                     .out_dir = dir.str("ds")});
  const model_config model = load_model_config(dir.str());
  const model_config deepseek = load_model_config(dir.str("ds"));
  const weight_store store = weight_store::open(dir.str());
  const weight_store ds_store = weight_store::open(dir.str("ds"));
  constexpr auto fp8 = kv_cache_dtype::kv_cache_dtype_fp8;
  constexpr auto cuda = engine_backend::engine_backend_cuda;
  EXPECT_THAT([&] { make_runner({.kv_dtype = fp8}, deepseek, ds_store); },
              ThrowsMessage<input_error>(HasSubstr("MLA")));
  EXPECT_THAT([&] { make_runner({.backend = cuda, .kv_dtype = fp8}, model, store); },
              ThrowsMessage<input_error>(HasSubstr("bfloat16"))); // a float32 checkpoint
  EXPECT_THAT(
      [&] {
        make_runner({.backend = cuda, .dtype = engine_dtype::engine_dtype_bf16, .kv_dtype = fp8},
                    model, store);
      },
      ThrowsMessage<input_error>(HasSubstr("head_dim 64 or 128"))); // the tiny model's is 8
  EXPECT_NO_THROW(make_runner({.kv_dtype = fp8}, model, store));
}

TEST(engine_config, the_scheduler_plans_the_runners_block_size_and_pool) {
  const engine_config c{.block_size = 8, .max_step_tokens = 512, .max_running = 3};
  const scheduler_config s = scheduler_config_for(c);
  EXPECT_EQ(s.block_size, 8);
  EXPECT_EQ(s.max_step_tokens, 512);
  EXPECT_EQ(s.max_running, 3);
  EXPECT_EQ(s.total_blocks, 0); // the runner's: batch_engine asks it
}

TEST(engine_config, make_runner_checks_first_and_builds_the_named_backend) {
  testing::temp_dir dir;
  init_random_model({.arch = model_arch::model_arch_qwen3, .seed = 2, .out_dir = dir.str()});
  const model_config model = load_model_config(dir.str());
  const weight_store store = weight_store::open(dir.str());
  EXPECT_THAT([&] { make_runner({.block_size = 0}, model, store); },
              ThrowsMessage<input_error>(HasSubstr("--block-size")));
  auto cpu = make_runner({}, model, store);
  EXPECT_FALSE(cpu->samples_on_device());
  EXPECT_GT(cpu->stats().loaded_bytes, 0);
  // A CPU runner has no pool: the planner's budget covers every running sequence at full context.
  batch_engine engine(*cpu, nullptr, scheduler_config_for({.max_running = 2}));
  EXPECT_EQ(engine.planner().config().total_blocks,
            2 * ((model.max_position_embeddings + 15) / 16));
  std::string why;
  if (!cuda_device_available(&why)) {
    EXPECT_THAT([&] { make_runner({.backend = engine_backend::engine_backend_cuda}, model, store); },
                ThrowsMessage<input_error>(HasSubstr("--backend cuda")));
  } else {
    auto gpu = make_runner({.backend = engine_backend::engine_backend_cuda, .num_kv_blocks = 64,
                            .block_size = 8},
                           model, store);
    EXPECT_EQ(gpu->kv_block_size(), 8);
    // The planner takes the paged runner's block size, whatever the plan it was given said.
    batch_engine on_gpu(*gpu, nullptr, scheduler_config_for({.block_size = 16}));
    EXPECT_EQ(on_gpu.planner().config().block_size, 8);
    EXPECT_EQ(gpu->stats().free_kv_blocks, 64);
  }
}

} // namespace
} // namespace proofmesh::engine
