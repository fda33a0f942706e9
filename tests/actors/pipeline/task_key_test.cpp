// Task ids as typed keys: every kind round-trips through its string, the strings are the ones
// the ledgers and events carry, and anything that is not exactly one key is refused.
#include "actors/pipeline/task_key.hpp"

#include <gtest/gtest.h>

namespace proofmesh::pipeline {
namespace {

TEST(task_key, every_kind_round_trips_through_its_id) {
  const task_key keys[] = {
      {.job = "j", .problem = "p0", .round = 1, .kind = task_kind::task_kind_generate, .slot = 7},
      {.job = "j", .problem = "even", .round = 2, .kind = task_kind::task_kind_verify, .slot = 3,
       .rating = 1},
      {.job = "job-1", .problem = "a.b", .round = 12, .kind = task_kind::task_kind_meta,
       .slot = 0, .rating = 2, .judgement = 4},
      {.job = "j", .problem = "p", .round = 3, .kind = task_kind::task_kind_stop},
  };
  const char* ids[] = {"j/p0/r1/gen/7", "j/even/r2/verify/3/1", "job-1/a.b/r12/meta/0/2/4",
                       "j/p/r3/stop"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(keys[i].to_string(), ids[i]);
    EXPECT_EQ(task_key::parse(ids[i]), keys[i]) << ids[i];
  }
  EXPECT_EQ(keys[1].round_prefix(), "j/even/r2/");
  EXPECT_EQ(job_of("job-1/a.b/r12/meta/0/2/4"), "job-1");
  EXPECT_EQ(job_of("no-slash"), "");
}

TEST(task_key, an_earlier_release_s_stop_id_still_parses) {
  const std::optional<task_key> k = task_key::parse("j/p/r3/stop/0");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->kind, task_kind::task_kind_stop);
  EXPECT_EQ(k->to_string(), "j/p/r3/stop");
}

TEST(task_key, anything_but_one_key_is_refused) {
  for (const char* bad : {"", "j", "j/p", "j/p/r1", "j/p/r1/gen", "j/p/r1/gen/1/2",
                          "j/p/1/gen/0", "j/p/r/gen/0", "j/p/r-1/gen/0", "j/p/r1/gen/-1",
                          "j/p/r1/gen/x", "j/p/r1/verify/0", "j/p/r1/meta/0/1",
                          "j/p/r1/stop/1", "j/p/r1/other/0", "//r1/gen/0", "j/p/r1/gen/0/",
                          "j/p/r1/gen/1234567890", "j/p/r1x/gen/0"}) {
    EXPECT_FALSE(task_key::parse(bad)) << bad;
  }
}

} // namespace
} // namespace proofmesh::pipeline
