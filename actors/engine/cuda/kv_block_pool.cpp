#include "actors/engine/cuda/kv_block_pool.hpp"

#include "actors/common/check.hpp"

namespace proofmesh::engine {

kv_block_pool::kv_block_pool(int32_t num_blocks) : blocks_(static_cast<size_t>(num_blocks)) {
  PM_ASSERT(num_blocks >= 0, "block count is non-negative");
  free_.reserve(blocks_.size());
  for (int32_t b = num_blocks - 1; b >= 0; --b) {
    free_.push_back(b);
  }
}

kv_block_pool::block_state& kv_block_pool::state(int32_t block) {
  PM_ASSERT(block >= 0 && block < num_blocks(), "block id in range");
  return blocks_[static_cast<size_t>(block)];
}

const kv_block_pool::block_state& kv_block_pool::state(int32_t block) const {
  PM_ASSERT(block >= 0 && block < num_blocks(), "block id in range");
  return blocks_[static_cast<size_t>(block)];
}

kv_block_pool::allocation kv_block_pool::allocate() {
  allocation out{};
  if (!free_.empty()) {
    out.block = free_.back();
    free_.pop_back();
  } else {
    PM_ASSERT(!lru_.empty(), "allocate only after can_allocate");
    out.block = lru_.front();
    lru_.pop_front();
    out.evicted_cached = true;
  }
  block_state& s = state(out.block);
  s.refs = 1;
  s.cached = false;
  return out;
}

void kv_block_pool::retain(int32_t block) {
  PM_ASSERT(state(block).refs > 0, "retain a referenced block");
  ++state(block).refs;
}

void kv_block_pool::release(int32_t block) {
  block_state& s = state(block);
  PM_ASSERT(s.refs > 0, "release a referenced block");
  if (--s.refs > 0) {
    return;
  }
  if (s.cached) {
    s.lru_pos = lru_.insert(lru_.end(), block);
  } else {
    free_.push_back(block);
  }
}

int32_t kv_block_pool::ref_count(int32_t block) const { return state(block).refs; }

void kv_block_pool::mark_cached(int32_t block) {
  PM_ASSERT(state(block).refs > 0, "only a referenced block becomes cached");
  state(block).cached = true;
}

bool kv_block_pool::is_cached(int32_t block) const { return state(block).cached; }

void kv_block_pool::acquire_cached(int32_t block) {
  block_state& s = state(block);
  PM_ASSERT(s.cached, "acquire a cached block");
  if (s.refs == 0) {
    lru_.erase(s.lru_pos);
  }
  ++s.refs;
}

} // namespace proofmesh::engine
