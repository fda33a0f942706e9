#include "actors/engine/runtime/engine_config.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/model/cpu_runner.hpp"

#include <string>

namespace proofmesh::engine {

std::optional<engine_backend> parse_engine_backend(std::string_view name) {
  if (name == "cpu") return engine_backend::engine_backend_cpu;
  if (name == "cuda") return engine_backend::engine_backend_cuda;
  return std::nullopt;
}

std::optional<engine_dtype> parse_engine_dtype(std::string_view name) {
  if (name == "auto") return engine_dtype::engine_dtype_auto;
  if (name == "float32") return engine_dtype::engine_dtype_f32;
  if (name == "bfloat16") return engine_dtype::engine_dtype_bf16;
  return std::nullopt;
}

std::optional<kv_cache_dtype> parse_kv_cache_dtype(std::string_view name) {
  if (name == "auto") return kv_cache_dtype::kv_cache_dtype_auto;
  if (name == "fp8" || name == "fp8_e4m3") return kv_cache_dtype::kv_cache_dtype_fp8;
  return std::nullopt;
}

namespace {

// What an FP8 cache needs of the model and the backend, said before any weight loads.
void check_fp8_cache(const engine_config& c, const model_config& model, bool f32) {
  if (model.is_deepseek()) {
    throw input_error("--kv-cache-dtype fp8: MLA's latent cache is not FP8 yet; DeepSeek models "
                      "take --kv-cache-dtype auto");
  }
  if (c.backend == engine_backend::engine_backend_cpu) {
    return; // the float32 mirror serves any shape
  }
  if (f32) {
    throw input_error("--kv-cache-dtype fp8 computes in bfloat16; this model would run in "
                      "float32 (pass --dtype bfloat16)");
  }
  if (model.head_dim != 64 && model.head_dim != 128) {
    throw input_error("--kv-cache-dtype fp8 needs head_dim 64 or 128 on cuda, not " +
                      std::to_string(model.head_dim));
  }
  if (model.num_attention_heads / model.num_key_value_heads > 64) {
    throw input_error("--kv-cache-dtype fp8 needs at most 64 query heads per kv head on cuda");
  }
}

} // namespace

void check_engine_config(const engine_config& c) {
  if (!(c.kv_memory_fraction > 0.0 && c.kv_memory_fraction <= 0.95)) {
    throw input_error("--kv-memory-fraction must be in (0, 0.95]");
  }
  if (c.num_kv_blocks < 0) {
    throw input_error("--kv-blocks must be 0 (sized from --kv-memory-fraction) or more");
  }
  if (c.block_size < 1 || c.block_size > 1024) {
    throw input_error("--block-size must be in [1, 1024]");
  }
  if (c.max_step_tokens < 1 || c.max_step_tokens > (int64_t{1} << 20)) {
    throw input_error("--max-step-tokens must be in [1, 1048576]");
  }
  if (c.max_running < 1 || c.max_running > 4096) {
    throw input_error("--max-running must be in [1, 4096]");
  }
  if (c.device < 0 || c.device > 255) {
    throw input_error("--device must be in [0, 255]");
  }
}

std::unique_ptr<model_runner> make_runner(const engine_config& c, const model_config& model,
                                          const weight_source& source) {
  check_engine_config(c);
  const bool f32 = c.dtype == engine_dtype::engine_dtype_f32 ||
                   (c.dtype == engine_dtype::engine_dtype_auto && model.torch_dtype == "float32");
  const bool fp8 = c.kv_dtype == kv_cache_dtype::kv_cache_dtype_fp8;
  if (fp8) {
    check_fp8_cache(c, model, f32);
  }
  if (c.backend == engine_backend::engine_backend_cpu) {
    return std::make_unique<cpu_runner>(model, source, fp8);
  }
  return make_cuda_runner(model, source,
                          {.dtype = f32 ? compute_dtype::compute_dtype_f32
                                        : compute_dtype::compute_dtype_bf16,
                           .block_size = c.block_size,
                           .num_kv_blocks = c.num_kv_blocks,
                           .kv_memory_fraction = c.kv_memory_fraction,
                           .fp8_kv_cache = fp8,
                           .cuda_graphs = c.cuda_graphs,
                           .device = c.device});
}

scheduler_config scheduler_config_for(const engine_config& c) {
  return {.max_running = c.max_running, .max_step_tokens = c.max_step_tokens,
          .block_size = c.block_size, .total_blocks = 0};
}

} // namespace proofmesh::engine
