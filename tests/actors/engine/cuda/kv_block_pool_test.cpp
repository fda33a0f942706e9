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
    seen.insert(pool.allocate());
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_FALSE(pool.can_allocate(1));
  EXPECT_EQ(pool.num_free(), 0);
}

TEST(kv_block_pool, shared_block_returns_only_after_last_release) {
  kv_block_pool pool(2);
  int32_t b = pool.allocate();
  pool.retain(b);
  EXPECT_EQ(pool.ref_count(b), 2);
  pool.release(b);
  EXPECT_EQ(pool.num_free(), 1);
  pool.release(b);
  EXPECT_EQ(pool.num_free(), 2);
  EXPECT_EQ(pool.ref_count(b), 0);
  EXPECT_EQ(pool.allocate(), b); // most recently freed is reused first
}

} // namespace
} // namespace proofmesh::engine
