// Host-side bookkeeping of the paged KV cache: which fixed-size blocks are free, how many
// sequences share each one, and which unreferenced blocks still hold a cached prefix.
// Rules of the road: a block is shared by reference count (a fork retains its parent's blocks).
// When the last holder releases it, a plain block returns to the free list, while a block that
// the prefix cache indexes waits in an LRU list: a later request with the same prefix revives it,
// and allocation evicts the least recently used one only when no free block is left.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <vector>

namespace proofmesh::engine {

class kv_block_pool {
public:
  explicit kv_block_pool(int32_t num_blocks);

  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  /// Blocks allocate() can hand out: free ones plus evictable cached ones.
  int32_t num_available() const { return static_cast<int32_t>(free_.size() + lru_.size()); }
  int32_t num_evictable() const { return static_cast<int32_t>(lru_.size()); }
  bool can_allocate(int32_t count) const { return count <= num_available(); }

  struct allocation {
    int32_t block;
    bool evicted_cached; // it held a cached prefix, which the caller must forget
  };
  /// A block with reference count 1: a free one, else the least recently used cached one.
  allocation allocate();
  void retain(int32_t block);
  void release(int32_t block);
  int32_t ref_count(int32_t block) const;

  /// Marks a referenced block as holding an indexed prefix (kept in the LRU when unreferenced).
  void mark_cached(int32_t block);
  bool is_cached(int32_t block) const;
  /// Takes a reference to a cached block, reviving it from the LRU list if it was unreferenced.
  void acquire_cached(int32_t block);

private:
  struct block_state {
    int32_t refs = 0;
    bool cached = false;
    std::list<int32_t>::iterator lru_pos;
  };
  block_state& state(int32_t block);
  const block_state& state(int32_t block) const;

  std::vector<block_state> blocks_;
  std::vector<int32_t> free_;  // stack: the most recently freed block is reused first
  std::list<int32_t> lru_;     // unreferenced cached blocks, least recently used first
};

} // namespace proofmesh::engine
