// up's restart policy: backoff doubling to a cap while a service dies quickly, a reset after a
// long run, and giving up after five quick deaths in a row.
#include "services/cli/restart_policy.hpp"

#include <gtest/gtest.h>

namespace proofmesh::cli {
namespace {

using namespace std::chrono_literals;

TEST(restart_policy, backs_off_resets_after_a_long_run_and_gives_up_on_a_crash_loop) {
  restart_policy p;
  EXPECT_EQ(p.on_death(1s), 500ms);
  EXPECT_EQ(p.on_death(1s), 1000ms);
  EXPECT_EQ(p.on_death(1s), 2000ms);
  // It ran for a minute: a fresh start, as if it had never died.
  EXPECT_EQ(p.on_death(61s), 500ms);
  EXPECT_EQ(p.on_death(2s), 1000ms);
  EXPECT_EQ(p.on_death(2s), 2000ms);
  EXPECT_EQ(p.on_death(2s), 4000ms);
  EXPECT_EQ(p.on_death(2s), 8000ms);
  EXPECT_EQ(p.on_death(2s), std::nullopt); // a sixth quick death in a row
}

TEST(restart_policy, a_service_that_runs_long_each_time_always_waits_the_first_delay) {
  restart_policy p;
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 5; ++i) {
    last = *p.on_death(90s); // long runs reset every time
  }
  EXPECT_EQ(last, 500ms);
}

} // namespace
} // namespace proofmesh::cli
