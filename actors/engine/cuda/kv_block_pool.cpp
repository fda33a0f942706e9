#include "actors/engine/cuda/kv_block_pool.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

kv_block_pool::kv_block_pool(int32_t num_blocks) : ref_counts_(static_cast<size_t>(num_blocks)) {
  PM_ASSERT(num_blocks >= 0, "block count is non-negative");
  free_.reserve(ref_counts_.size());
  for (int32_t b = num_blocks - 1; b >= 0; --b) {
    free_.push_back(b);
  }
}

int32_t kv_block_pool::allocate() {
  PM_ASSERT(!free_.empty(), "allocate only after can_allocate");
  int32_t block = free_.back();
  free_.pop_back();
  ref_counts_[static_cast<size_t>(block)] = 1;
  return block;
}

void kv_block_pool::retain(int32_t block) {
  PM_ASSERT(ref_count(block) > 0, "retain a live block");
  ++ref_counts_[static_cast<size_t>(block)];
}

void kv_block_pool::release(int32_t block) {
  PM_ASSERT(ref_count(block) > 0, "release a live block");
  if (--ref_counts_[static_cast<size_t>(block)] == 0) {
    free_.push_back(block);
  }
}

int32_t kv_block_pool::ref_count(int32_t block) const {
  PM_ASSERT(block >= 0 && block < num_blocks(), "block id in range");
  return ref_counts_[static_cast<size_t>(block)];
}

} // namespace proofmesh::engine
