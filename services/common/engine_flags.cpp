#include "services/common/engine_flags.hpp"

#include "actors/common/error.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

namespace proofmesh::services {

namespace pe = proofmesh::engine;

void add_engine_flags(CLI::App& app, engine_flags& f, const std::string& backend_help) {
  pe::engine_config& c = f.config;
  app.add_option("--backend", f.backend, backend_help);
  app.add_option("--dtype", f.dtype,
                 "cuda compute type: auto (float32 checkpoints stay float32, others bfloat16), "
                 "float32 or bfloat16; cpu computes in float32");
  app.add_option("--kv-cache-dtype", f.kv_cache_dtype,
                 "KV cache type: auto (the compute type) or fp8 (e4m3 with a scale per token and "
                 "kv head: about twice the sequences fit; cuda: bfloat16, head_dim 64 or 128)");
  app.add_option("--kv-memory-fraction", c.kv_memory_fraction,
                 "cuda: share of the device memory free after loading the weights that the KV "
                 "cache takes (default 0.5)");
  app.add_option("--kv-blocks", c.num_kv_blocks, "cuda: KV pool size in blocks (0: from the fraction)");
  app.add_option("--block-size", c.block_size, "tokens per KV block (1..1024, default 16)");
  app.add_option("--max-step-tokens", c.max_step_tokens,
                 "new tokens one engine step computes (default 8192)");
  app.add_option("--max-running", c.max_running, "sequences one engine step runs (default 256)");
  app.add_flag("--no-cuda-graphs", f.no_cuda_graphs, "cuda: run decode steps eagerly");
  app.add_option("--device", c.device, "cuda: device ordinal");
}

pe::engine_config engine_flags::resolve() const {
  pe::engine_config c = config;
  const auto backend_value = pe::parse_engine_backend(backend);
  if (!backend_value) {
    throw input_error("--backend must be cpu or cuda, not '" + backend + "'");
  }
  const auto dtype_value = pe::parse_engine_dtype(dtype);
  if (!dtype_value) {
    throw input_error("--dtype must be auto, float32 or bfloat16, not '" + dtype + "'");
  }
  const auto kv_value = pe::parse_kv_cache_dtype(kv_cache_dtype);
  if (!kv_value) {
    throw input_error("--kv-cache-dtype must be auto or fp8, not '" + kv_cache_dtype + "'");
  }
  c.backend = *backend_value;
  c.kv_dtype = *kv_value;
  c.dtype = *dtype_value;
  c.cuda_graphs = !no_cuda_graphs;
  pe::check_engine_config(c);
  return c;
}

std::vector<std::string> engine_flags::to_args() const {
  std::ostringstream fraction;
  fraction << config.kv_memory_fraction;
  std::vector<std::string> args = {"--backend", backend,
                                   "--dtype", dtype,
                                   "--kv-cache-dtype", kv_cache_dtype,
                                   "--kv-memory-fraction", fraction.str(),
                                   "--kv-blocks", std::to_string(config.num_kv_blocks),
                                   "--block-size", std::to_string(config.block_size),
                                   "--max-step-tokens", std::to_string(config.max_step_tokens),
                                   "--max-running", std::to_string(config.max_running),
                                   "--device", std::to_string(config.device)};
  if (no_cuda_graphs) {
    args.emplace_back("--no-cuda-graphs");
  }
  return args;
}

} // namespace proofmesh::services
