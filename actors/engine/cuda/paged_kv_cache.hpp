// The paged KV cache of the CUDA backend: device pools of fixed-size blocks, and per sequence a
// block table and a length. Rules of the road: a fork retains its parent's blocks instead of
// copying them, so n samples of one prompt share its prefill; a sequence about to write into a
// block it shares gets a private copy first (copy-on-write). Pool layout per layer:
// [num_blocks, block_size, kv_heads, head_dim], keys and values in separate pools.
#pragma once

#include "actors/engine/cuda/device_array.hpp"
#include "actors/engine/cuda/kv_block_pool.hpp"
#include "actors/engine/model/model_runner.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace proofmesh::engine {

struct paged_kv_cache_params {
  int64_t num_layers;
  int64_t kv_heads;
  int64_t head_dim;
  int32_t block_size;   // tokens per block
  int32_t num_blocks;   // blocks per layer pool
  size_t element_bytes; // sizeof the compute type
};

class paged_kv_cache {
public:
  explicit paged_kv_cache(const paged_kv_cache_params& params);

  sequence_id create();
  sequence_id fork(sequence_id parent);
  void release(sequence_id seq);

  /// Whether `count` more tokens of `seq` fit in the free blocks.
  bool can_append(sequence_id seq, int64_t count) const;
  /// Extends `seq` by `count` tokens and appends their cache slots (block * block_size + offset)
  /// to `slots`. Copies a shared partial block first, on `stream`. Check can_append first.
  void append(sequence_id seq, int64_t count, cudaStream_t stream, std::vector<int32_t>& slots);

  int64_t length(sequence_id seq) const { return seq_(seq).length; }
  const std::vector<int32_t>& block_table(sequence_id seq) const { return seq_(seq).blocks; }
  int32_t block_size() const { return params_.block_size; }
  int32_t num_free_blocks() const { return pool_.num_free(); }
  int32_t num_blocks() const { return pool_.num_blocks(); }

  /// Base of layer `layer`'s key (or value) pool.
  std::byte* keys(int64_t layer) const { return keys_.get() + layer * layer_bytes_; }
  std::byte* values(int64_t layer) const { return values_.get() + layer * layer_bytes_; }

private:
  struct sequence {
    std::vector<int32_t> blocks;
    int64_t length = 0;
  };
  const sequence& seq_(sequence_id id) const;
  int64_t blocks_needed(const sequence& s, int64_t count) const;

  paged_kv_cache_params params_;
  size_t block_bytes_;
  size_t layer_bytes_;
  device_array<std::byte> keys_;
  device_array<std::byte> values_;
  kv_block_pool pool_;
  std::map<sequence_id, sequence> sequences_;
  sequence_id next_id_ = 0;
};

} // namespace proofmesh::engine
