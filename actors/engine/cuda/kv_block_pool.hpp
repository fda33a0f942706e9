// Host-side bookkeeping of the paged KV cache: which fixed-size blocks are free, and how many
// sequences share each one. Rules of the road: a block is shared by reference count (a fork
// retains its parent's blocks), and returns to the free list when the last holder releases it.
// The pool never touches device memory; the runner copies a shared block before writing into it.
#pragma once

#include <cstdint>
#include <vector>

namespace proofmesh::engine {

class kv_block_pool {
public:
  explicit kv_block_pool(int32_t num_blocks);

  int32_t num_blocks() const { return static_cast<int32_t>(ref_counts_.size()); }
  int32_t num_free() const { return static_cast<int32_t>(free_.size()); }
  bool can_allocate(int32_t count) const { return count <= num_free(); }

  /// A free block with reference count 1; the pool must have one (check can_allocate).
  int32_t allocate();
  void retain(int32_t block);
  void release(int32_t block);
  int32_t ref_count(int32_t block) const;

private:
  std::vector<int32_t> ref_counts_;
  std::vector<int32_t> free_; // stack: the most recently freed block is reused first
};

} // namespace proofmesh::engine
