// The paged KV cache of the CUDA backend: device pools of fixed-size blocks, and per sequence a
// block table, its tokens and a length. Rules of the road:
// - A fork retains its parent's blocks instead of copying them, so n samples of one prompt share
//   its prefill; a sequence about to write into a block it shares copies it first (copy-on-write).
//   fork(parent, length) may share a block only up to `length`; such a block may be full and
//   indexed for the parent, so a write into an indexed block copies it too, even once the
//   parent has let go, and the index never vouches for tokens it did not see.
// - Automatic prefix caching: every full block is indexed by a hash of its tokens chained with the
//   hash of the blocks before it (so equal hashes mean equal prefixes; tokens are compared too,
//   so a hash collision is a miss, never a wrong cache). A new sequence starts from the longest
//   indexed prefix of its prompt. Unreferenced indexed blocks are evicted least recently used.
// Pool layout per layer: [num_blocks, block_size, width] for each of keys, values and the DSA
// indexer's keys, apart; a pool of width 0 is absent (MLA caches its latent as keys and has no
// values; only DeepSeek-V3.2 has indexer keys). An FP8 cache keeps keys and values as e4m3 codes
// and adds two pools of float scales, [num_blocks, block_size, kv_heads] (kv_cache_write.cuh
// says which scales and why), so a block takes a little over half the bytes of bf16.
#pragma once

#include "actors/engine/cuda/device_array.hpp"
#include "actors/engine/cuda/kv_block_pool.hpp"
#include "actors/engine/model/model_runner.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace proofmesh::engine {

struct paged_kv_cache_params {
  int64_t num_layers;
  int64_t key_width;    // elements per token and layer: kv_heads * head_dim
  int64_t value_width;  // likewise; 0: no values
  int64_t index_width;  // the indexer's key per token and layer; 0: none
  int32_t block_size;   // tokens per block
  int32_t num_blocks;   // blocks per layer pool
  size_t element_bytes; // sizeof the compute type: every pool but an FP8 cache's
  int64_t fp8_scales = 0; // > 0: keys and values are e4m3, with this many scales (kv_heads) per
                          // token and layer for each
};

class paged_kv_cache {
public:
  explicit paged_kv_cache(const paged_kv_cache_params& params);

  sequence_id create();
  sequence_id fork(sequence_id parent);
  /// A new sequence sharing the first `length` cached tokens of `parent` (a partial last block
  /// too, copied on its first write).
  sequence_id fork(sequence_id parent, int64_t length);
  void release(sequence_id seq);
  /// Blocks release(seq) would make available now: those of seq's no other sequence holds.
  int32_t blocks_freed_by_release(sequence_id seq) const;

  /// For an empty `seq`: adopts the longest cached prefix of `tokens` that leaves at least one
  /// token to compute (its logits are needed), and returns how many tokens it covers.
  int64_t match_prefix(sequence_id seq, std::span<const int32_t> tokens);

  /// Whether `count` more tokens of `seq` fit in the available blocks.
  bool can_append(sequence_id seq, int64_t count) const;
  /// Whether all of one step's appends fit together, made in this order: each (seq, count)
  /// fitting alone is not enough when they share the pool. Of the holders of one shared partial
  /// block, each copies it but the last, which then holds it alone and writes in place.
  bool can_append_all(std::span<const std::pair<sequence_id, int64_t>> appends) const;
  /// Extends `seq` by `tokens` and appends their cache slots (block * block_size + offset) to
  /// `slots`. Copies a shared partial block first, on `stream`. Check can_append first.
  void append(sequence_id seq, std::span<const int32_t> tokens, cudaStream_t stream,
              std::vector<int32_t>& slots);

  int64_t length(sequence_id seq) const { return find_sequence(seq).length(); }
  const std::vector<int32_t>& block_table(sequence_id seq) const { return find_sequence(seq).blocks; }
  int32_t block_size() const { return params_.block_size; }
  int32_t num_free_blocks() const { return pool_.num_available(); }
  int64_t prefix_hit_tokens() const { return prefix_hit_tokens_; }
  int32_t num_blocks() const { return pool_.num_blocks(); }

  /// Base of layer `layer`'s key (value, indexer key) pool; nullptr for an absent pool.
  std::byte* keys(int64_t layer) const { return pool_base(keys_, 0, layer); }
  std::byte* values(int64_t layer) const { return pool_base(values_, 1, layer); }
  std::byte* index_keys(int64_t layer) const { return pool_base(index_keys_, 2, layer); }
  /// An FP8 cache's scales of layer `layer`'s keys (values); nullptr otherwise.
  float* key_scales(int64_t layer) const {
    return reinterpret_cast<float*>(pool_base(key_scales_, 3, layer));
  }
  float* value_scales(int64_t layer) const {
    return reinterpret_cast<float*>(pool_base(value_scales_, 4, layer));
  }
  bool fp8() const { return params_.fp8_scales > 0; }
  /// Bytes one block takes over every layer and pool.
  static size_t bytes_per_block(const paged_kv_cache_params& params);

private:
  struct sequence {
    std::vector<int32_t> blocks;
    std::vector<int32_t> tokens;  // every token whose KV is cached, in order
    std::vector<uint64_t> hashes; // chained hash of each full block
    int64_t length() const { return static_cast<int64_t>(tokens.size()); }
  };
  struct cached_block {
    int32_t block;
    std::vector<int32_t> tokens; // [block_size], to tell a hash collision from a hit
  };
  const sequence& find_sequence(sequence_id id) const;
  /// Blocks `count` more tokens of s take; `copied_away` holders of its partial last block
  /// have already copied it in the same step (and so no longer hold it).
  int64_t blocks_needed(const sequence& s, int64_t count, int32_t copied_away = 0) const;
  /// Whether writing into `block` must copy it first: it is shared (by more holders than the
  /// `copied_away` that let go of it), or indexed as a prefix.
  bool must_copy(int32_t block, int32_t copied_away = 0) const;
  int32_t allocate_block();
  void index_full_blocks(sequence& s);
  uint64_t block_hash(uint64_t parent, std::span<const int32_t> tokens) const;

  paged_kv_cache_params params_;
  std::byte* pool_base(const device_array<std::byte>& pool, int which, int64_t layer) const {
    return layer_bytes_[which] == 0 ? nullptr
                                    : pool.get() + static_cast<size_t>(layer) * layer_bytes_[which];
  }

  static constexpr int num_pools = 5;
  std::array<std::byte*, num_pools> layer_pools(int64_t layer) const;

  size_t block_bytes_[num_pools];  // keys, values, indexer keys, key scales, value scales
  size_t layer_bytes_[num_pools];
  device_array<std::byte> keys_;
  device_array<std::byte> values_;
  device_array<std::byte> index_keys_;
  device_array<std::byte> key_scales_;
  device_array<std::byte> value_scales_;
  kv_block_pool pool_;
  std::map<sequence_id, sequence> sequences_;
  sequence_id next_id_ = 0;
  std::unordered_map<uint64_t, cached_block> index_; // chained hash -> block
  std::unordered_map<int32_t, uint64_t> block_hash_; // indexed block -> its hash
  int64_t prefix_hit_tokens_ = 0;
};

} // namespace proofmesh::engine
