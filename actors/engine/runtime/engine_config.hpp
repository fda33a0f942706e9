// The engine's configuration: one struct for every way an engine is built (the worker,
// `proofmesh generate`, `proofmesh up` through its workers, the benches), checked once by
// make_runner and derived from there (STYLE.md item 10). Rules of the road: the block size
// reaches the runner's KV pool and the scheduler's plan from the one field here; the scheduler's
// KV budget is the runner's real pool (batch_engine asks the runner), never a second guess.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/model/model_runner.hpp"
#include "actors/engine/scheduling/scheduler.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace proofmesh::engine {

class weight_source;

enum class engine_backend : uint8_t { engine_backend_cpu, engine_backend_cuda };
enum class engine_dtype : uint8_t { engine_dtype_auto, engine_dtype_f32, engine_dtype_bf16 };
enum class kv_cache_dtype : uint8_t { kv_cache_dtype_auto, kv_cache_dtype_fp8 };

struct engine_config {
  engine_backend backend = engine_backend::engine_backend_cpu;
  engine_dtype dtype = engine_dtype::engine_dtype_auto; // cuda compute type; auto: float32
                                                        // checkpoints stay float32, others bf16
  // The KV cache's type: auto (the compute type) or fp8 (e4m3 with a scale per token and kv
  // head, kernels/cuda/kv_cache_write.cuh: about twice the sequences in the same memory). cuda:
  // bf16 compute, head_dim 64 or 128; not yet for MLA.
  kv_cache_dtype kv_dtype = kv_cache_dtype::kv_cache_dtype_auto;
  double kv_memory_fraction = 0.5; // cuda: of the device memory free after the weights, (0, 0.95]
  int32_t num_kv_blocks = 0;       // cuda: the KV pool in blocks; 0: from kv_memory_fraction
  int32_t block_size = 16;         // tokens per KV block, [1, 1024]
  int64_t max_step_tokens = 8192;  // new tokens in one step (a decode counts one), [1, 1 << 20]
  int32_t max_running = 256;       // sequences in one step, [1, 4096]
  bool cuda_graphs = true;         // cuda: replay decode steps from captured graphs
  int device = 0;                  // cuda: the device ordinal
};

/// "cpu", "cuda" / "auto", "float32", "bfloat16": the flags' spellings.
std::optional<engine_backend> parse_engine_backend(std::string_view name);
std::optional<engine_dtype> parse_engine_dtype(std::string_view name);
/// "auto", "fp8" / "fp8_e4m3" (vLLM's spellings).
std::optional<kv_cache_dtype> parse_kv_cache_dtype(std::string_view name);

/// input_error naming the flag of the first field out of range.
void check_engine_config(const engine_config& config);

/// Checks `config`, then builds its runner with the weights streamed from `source`. input_error
/// for a bad config or checkpoint, a cuda backend without a device, or an FP8 cache the model or
/// backend cannot have.
std::unique_ptr<model_runner> make_runner(const engine_config& config, const model_config& model,
                                          const weight_source& source);

/// The planner's half of the config; its KV budget comes from the runner (total_blocks 0).
scheduler_config scheduler_config_for(const engine_config& config);

} // namespace proofmesh::engine
