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
  if (c.backend == engine_backend::engine_backend_cpu) {
    return std::make_unique<cpu_runner>(model, source);
  }
  const bool f32 = c.dtype == engine_dtype::engine_dtype_f32 ||
                   (c.dtype == engine_dtype::engine_dtype_auto && model.torch_dtype == "float32");
  return make_cuda_runner(model, source,
                          {.dtype = f32 ? compute_dtype::compute_dtype_f32
                                        : compute_dtype::compute_dtype_bf16,
                           .block_size = c.block_size,
                           .num_kv_blocks = c.num_kv_blocks,
                           .kv_memory_fraction = c.kv_memory_fraction,
                           .cuda_graphs = c.cuda_graphs,
                           .device = c.device});
}

scheduler_config scheduler_config_for(const engine_config& c) {
  return {.max_running = c.max_running, .max_step_tokens = c.max_step_tokens,
          .block_size = c.block_size, .total_blocks = 0};
}

} // namespace proofmesh::engine
