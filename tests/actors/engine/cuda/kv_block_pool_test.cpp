#include "actors/engine/cuda/kv_block_pool.hpp"

#include <gtest/gtest.h>

#include <set>

namespace proofmesh::engine {
namespace {

TEST(kv_block_pool, allocates_distinct_blocks_until_empty) {
  kv_block_pool pool(4);
  std::set<int32_t> seen;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pool.can_allocate(1));
    auto a = pool.allocate();
    EXPECT_FALSE(a.evicted_cached);
    seen.insert(a.block);
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_FALSE(pool.can_allocate(1));
  EXPECT_EQ(pool.num_available(), 0);
}

TEST(kv_block_pool, shared_block_returns_only_after_last_release) {
  kv_block_pool pool(2);
  int32_t b = pool.allocate().block;
  pool.retain(b);
  EXPECT_EQ(pool.ref_count(b), 2);
  pool.release(b);
  EXPECT_EQ(pool.num_available(), 1);
  pool.release(b);
  EXPECT_EQ(pool.num_available(), 2);
  EXPECT_EQ(pool.ref_count(b), 0);
  EXPECT_EQ(pool.allocate().block, b); // most recently freed is reused first
}

TEST(kv_block_pool, cached_blocks_wait_in_lru_and_are_evicted_last_and_oldest_first) {
  kv_block_pool pool(3);
  int32_t a = pool.allocate().block, b = pool.allocate().block, c = pool.allocate().block;
  pool.mark_cached(a);
  pool.mark_cached(b);
  pool.release(a); // LRU: a
  pool.release(b); // LRU: a, b
  pool.release(c); // plain: free list
  EXPECT_EQ(pool.num_available(), 3);
  EXPECT_EQ(pool.num_evictable(), 2);
  // A free block goes first; then the least recently used cached one.
  auto first = pool.allocate();
  EXPECT_EQ(first.block, c);
  EXPECT_FALSE(first.evicted_cached);
  pool.acquire_cached(a); // a revived: b is now the only evictable block
  EXPECT_EQ(pool.ref_count(a), 1);
  auto second = pool.allocate();
  EXPECT_EQ(second.block, b);
  EXPECT_TRUE(second.evicted_cached);
  EXPECT_FALSE(pool.is_cached(b));
  EXPECT_FALSE(pool.can_allocate(1));
  // A referenced cached block is shared by acquire without leaving the index.
  pool.acquire_cached(a);
  EXPECT_EQ(pool.ref_count(a), 2);
}

} // namespace
} // namespace proofmesh::engine
