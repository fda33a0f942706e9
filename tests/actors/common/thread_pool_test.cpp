#include "actors/common/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace proofmesh {
namespace {

TEST(thread_pool, covers_every_index_exactly_once) {
  for (size_t threads : {1u, 2u, 3u, 7u}) {
    thread_pool pool(threads);
    for (size_t n : {0u, 1u, 2u, 5u, 100u, 1001u}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          hits[i].fetch_add(1);
        }
      });
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(hits[i].load(), 1) << "threads=" << threads << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(thread_pool, runs_many_jobs_back_to_back) {
  thread_pool pool(4);
  std::atomic<long> sum{0};
  for (int round = 0; round < 200; ++round) {
    pool.parallel_for(64, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        sum.fetch_add(static_cast<long>(i));
      }
    });
  }
  EXPECT_EQ(sum.load(), 200L * (63 * 64 / 2));
}

} // namespace
} // namespace proofmesh
