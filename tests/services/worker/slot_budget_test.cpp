// The shared slot budget of a worker serving several roles: it never promises more slots than it
// has, a single role gets them all, and a role with work is served however busy the others are.
#include "services/worker/slot_budget.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <random>

namespace proofmesh::worker {
namespace {

uint32_t promised(const slot_budget& b, size_t roles) {
  uint32_t sum = b.pool();
  for (size_t r = 0; r < roles; ++r) {
    sum += b.credit(r) + b.held(r);
  }
  return sum;
}

TEST(slot_budget, a_single_role_is_granted_every_slot_at_once) {
  slot_budget b(8, 1);
  EXPECT_EQ(b.start(), std::vector<uint32_t>{8});
  EXPECT_EQ(b.on_task(0), 0u); // nothing left to grant
  EXPECT_EQ(b.on_free(0), std::vector<uint32_t>{1});
}

TEST(slot_budget, the_work_takes_the_slots_an_idle_role_does_not_use) {
  // 256 slots over 3 roles: each is promised 21 ahead of use; only the generator has work.
  slot_budget b(256, 3);
  EXPECT_EQ(b.target(), 21u);
  EXPECT_EQ(b.start(), (std::vector<uint32_t>{21, 21, 21}));
  uint32_t held = 0;
  for (int i = 0; i < 300; ++i) {
    if (b.credit(0) == 0) {
      break;
    }
    b.on_task(0);
    ++held;
  }
  // Everything but the two idle roles' promises runs generator tasks.
  EXPECT_EQ(held, 256u - 2 * 21);
  EXPECT_EQ(b.pool(), 0u);
  EXPECT_EQ(promised(b, 3), 256u);
}

TEST(slot_budget, a_freed_slot_goes_to_a_role_waiting_with_no_credit_in_turn) {
  slot_budget b(3, 3); // one slot each, target 1
  b.start();
  for (size_t r = 0; r < 3; ++r) {
    b.on_task(r);
  }
  // All three busy and waiting: frees by role 0 serve 0, 1, 2 in turn (round robin).
  std::vector<uint32_t> g = b.on_free(0);
  EXPECT_EQ(g, (std::vector<uint32_t>{1, 0, 0}));
  b.on_task(0);
  // The next free, whoever frees it, serves role 1: next in turn after role 0.
  g = b.on_free(1);
  EXPECT_EQ(g, (std::vector<uint32_t>{0, 1, 0}));
}

// A random load on 4 roles: the budget is exact after every event, and every role that keeps
// asking is served: no role waits more than `roles` frees for a slot once it has spent its credit.
TEST(slot_budget, random_load_never_overpromises_and_never_starves_a_role) {
  std::mt19937 rng(7);
  const size_t roles = 4;
  slot_budget b(16, roles);
  std::vector<uint32_t> credit = b.start();
  std::vector<uint32_t> running(roles, 0);
  std::vector<int> frees_waited(roles, 0);
  for (int step = 0; step < 20000; ++step) {
    // Every role always has work: it spends any credit it has (the coordinator sends at once).
    for (size_t r = 0; r < roles; ++r) {
      while (credit[r] > 0) {
        --credit[r];
        ++running[r];
        credit[r] += b.on_task(r);
      }
    }
    ASSERT_EQ(promised(b, roles), 16u);
    // One random running task ends.
    std::vector<size_t> busy;
    for (size_t r = 0; r < roles; ++r) {
      for (uint32_t k = 0; k < running[r]; ++k) busy.push_back(r);
    }
    ASSERT_FALSE(busy.empty());
    const size_t done = busy[rng() % busy.size()];
    --running[done];
    std::vector<uint32_t> g = b.on_free(done);
    for (size_t r = 0; r < roles; ++r) {
      credit[r] += g[r];
      frees_waited[r] = (credit[r] == 0 && b.credit(r) == 0) ? frees_waited[r] + 1 : 0;
      ASSERT_LE(frees_waited[r], static_cast<int>(roles)) << "role " << r << " starved";
    }
  }
}

} // namespace
} // namespace proofmesh::worker
