// The CUDA backend behind the model_runner interface: an architecture (model/architecture.hpp)
// over cuda_ops, on a paged KV cache whose blocks forked sequences share.
// Rules of the road: compute runs in float32 (the exact mirror of the CPU backend, for tests) or
// bf16 (the fast path); accumulation is float32 in both. One host plan per forward call (token
// ids, positions, cache slots, block tables) is copied to the device, then the kernels execute it.
#pragma once

#include "actors/engine/model/model_config.hpp"
#include "actors/engine/model/model_runner.hpp"
#include "actors/engine/weights/weight_source.hpp"

#include <cstdint>
#include <memory>

namespace proofmesh::engine {

enum class compute_dtype : uint8_t { compute_dtype_f32, compute_dtype_bf16 };

struct cuda_runner_params {
  compute_dtype dtype = compute_dtype::compute_dtype_bf16;
  int32_t block_size = 16;          // tokens per KV block
  int32_t num_kv_blocks = 0;        // 0: size the pool from kv_memory_fraction
  double kv_memory_fraction = 0.5;  // of the device memory free after the weights are loaded
  bool fp8_kv_cache = false;        // e4m3 keys and values with scales (paged_kv_cache.hpp); bf16
                                    // dense models only (engine_config checks)
  bool cuda_graphs = true;          // replay decode steps from captured graphs (decode_graphs.hpp)
  int device = 0;
};

/// Streams the weights from `source` to the device and allocates the KV pool. Throws input_error when there is no CUDA device,
/// cuda_error when the device fails.
std::unique_ptr<model_runner> make_cuda_runner(const model_config& config,
                                               const weight_source& source,
                                               const cuda_runner_params& params);

/// Whether a CUDA device is usable; `why` says why not.
bool cuda_device_available(std::string* why);

} // namespace proofmesh::engine
