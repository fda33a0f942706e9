// Credit-based dispatch: no worker gets more tasks than its credit, replicas share the load, a
// silent worker's tasks go elsewhere with attempt + 1 and its late results do not count, and
// cancels and limits hold.
#include "actors/transport/credit_dispatcher.hpp"

#include <gtest/gtest.h>

#include <map>

namespace proofmesh::transport {
namespace {

using namespace std::chrono_literals;

task_msg task(const std::string& id) {
  return {.task_id = id, .job_id = "j", .input = verify_input{"P", "S"}};
}

// "t" + std::to_string(i) trips GCC 12's false -Wrestrict positive.
std::string numbered(int i) {
  std::string s = "t";
  s += std::to_string(i);
  return s;
}

TEST(credit_dispatcher, never_sends_more_than_the_credit) {
  credit_dispatcher d({});
  const steady_time t0{};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(d.enqueue(task(numbered(i))));
  }
  EXPECT_TRUE(d.assign().empty()); // no worker yet
  d.grant("w1", 3, t0);
  auto first = d.assign();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].task.task_id, "t0"); // arrival order
  EXPECT_EQ(d.credit("w1"), 0u);
  EXPECT_TRUE(d.assign().empty());
  EXPECT_TRUE(d.complete("w1", "t0", t0));
  EXPECT_TRUE(d.assign().empty()); // a result frees a slot only when the worker says so
  d.grant("w1", 1, t0);
  EXPECT_EQ(d.assign().size(), 1u);
  EXPECT_EQ(d.num_queued(), 6u);
  EXPECT_EQ(d.num_in_flight(), 3u);
}

// A coordinator that took over never saw the credit its predecessor got: an idle worker's
// heartbeat (nothing running there, nothing of ours on the way) restores its whole capacity,
// and a busy one's does not add to what it has.
TEST(credit_dispatcher, an_idle_workers_heartbeat_restores_its_capacity) {
  credit_dispatcher d({});
  const steady_time t0{};
  EXPECT_TRUE(d.heartbeat("w1", 2, /*worker_in_flight=*/1, t0)); // busy with a predecessor's
  EXPECT_EQ(d.credit("w1"), 0u);
  EXPECT_TRUE(d.heartbeat("w1", 2, 0, t0));
  EXPECT_EQ(d.credit("w1"), 2u);
  ASSERT_TRUE(d.enqueue(task("a")));
  ASSERT_EQ(d.assign().size(), 1u);
  EXPECT_TRUE(d.heartbeat("w1", 2, 0, t0)); // sent before our task arrived: changes nothing
  EXPECT_EQ(d.credit("w1"), 1u);
  EXPECT_TRUE(d.heartbeat("w1", 2, 0, t0));
  EXPECT_EQ(d.credit("w1"), 1u); // idempotent: a set, never an addition
  EXPECT_TRUE(d.heartbeat("old", 0, 0, t0)); // a worker that does not tell its capacity
  EXPECT_EQ(d.credit("old"), 0u);
  EXPECT_EQ(d.num_workers(), 1u);
}

// A completion (someone waits on it) arriving behind a job's backlog takes the next free slot;
// the job's tasks keep their order behind it, and a requeued completion stays in its lane.
TEST(credit_dispatcher, a_completion_waits_for_a_slot_not_behind_a_jobs_backlog) {
  credit_dispatcher d({.heartbeat_timeout = 1000ms});
  const steady_time t0{};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(d.enqueue(task(numbered(i))));
  ASSERT_TRUE(d.enqueue({.task_id = "chat/0", .input = complete_input{.prompt = "hi"}}));
  ASSERT_TRUE(d.enqueue({.task_id = "chat/1", .input = complete_input{.prompt = "hey"}}));
  EXPECT_EQ(d.num_queued(), 102u);
  d.grant("w1", 3, t0);
  auto first = d.assign();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].task.task_id, "chat/0");
  EXPECT_EQ(first[1].task.task_id, "chat/1");
  EXPECT_EQ(first[2].task.task_id, "t0"); // then the job's tasks, in their order
  // w1 goes silent; its tasks come back, the completions still first.
  d.expire(t0 + 2000ms);
  d.grant("w2", 2, t0 + 2000ms);
  auto second = d.assign();
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].task.task_id, "chat/0");
  EXPECT_EQ(second[0].task.attempt, 1u);
  EXPECT_EQ(second[1].task.task_id, "chat/1");
  d.cancel("t1");
  EXPECT_EQ(d.num_queued(), 99u);
}

TEST(credit_dispatcher, replicas_share_the_work) {
  credit_dispatcher d({});
  const steady_time t0{};
  d.grant("a", 4, t0);
  d.grant("b", 4, t0);
  for (int i = 0; i < 6; ++i) {
    d.enqueue(task(numbered(i)));
  }
  std::map<worker_id, int> got;
  for (const assignment& a : d.assign()) {
    ++got[a.worker];
  }
  EXPECT_EQ(got["a"], 3);
  EXPECT_EQ(got["b"], 3);
}

TEST(credit_dispatcher, a_silent_worker_loses_its_tasks_and_its_late_results) {
  credit_dispatcher d({.heartbeat_timeout = 1000ms});
  const steady_time t0{};
  d.grant("dead", 2, t0);
  d.enqueue(task("x"));
  d.enqueue(task("y"));
  d.enqueue(task("z"));
  ASSERT_EQ(d.assign().size(), 2u); // x and y to "dead"
  d.grant("alive", 5, t0 + 900ms);
  ASSERT_EQ(d.assign().size(), 1u); // z to "alive"
  d.touch("alive", t0 + 1500ms);
  EXPECT_TRUE(d.expire(t0 + 1000ms).empty()); // exactly at the timeout: still alive
  EXPECT_EQ(d.expire(t0 + 1500ms), std::vector<worker_id>{"dead"});
  auto again = d.assign();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].worker, "alive");
  EXPECT_EQ(again[0].task.task_id, "x"); // orphans first, in order
  EXPECT_EQ(again[0].task.attempt, 1u);
  EXPECT_EQ(again[1].task.task_id, "y");
  EXPECT_FALSE(d.complete("dead", "x", t0 + 1600ms)); // the late result does not count
  EXPECT_TRUE(d.complete("alive", "x", t0 + 1600ms));
  EXPECT_FALSE(d.complete("alive", "x", t0 + 1700ms)); // nor does a duplicate
}

TEST(credit_dispatcher, cancels_queued_and_in_flight_tasks) {
  credit_dispatcher d({});
  const steady_time t0{};
  d.enqueue(task("a"));
  d.enqueue(task("b"));
  d.grant("w", 1, t0);
  ASSERT_EQ(d.assign().size(), 1u);
  EXPECT_EQ(d.cancel("a"), std::optional<worker_id>("w")); // in flight on w: tell it
  EXPECT_EQ(d.cancel("b"), std::nullopt);                  // queued: just gone
  EXPECT_EQ(d.num_queued(), 0u);
  EXPECT_EQ(d.num_in_flight(), 0u);
  EXPECT_FALSE(d.complete("w", "a", t0));
}

TEST(credit_dispatcher, limits_hold) {
  credit_dispatcher d({.max_queued = 2, .max_workers = 1, .max_credit = 10});
  const steady_time t0{};
  EXPECT_TRUE(d.enqueue(task("a")));
  EXPECT_TRUE(d.enqueue(task("b")));
  EXPECT_FALSE(d.enqueue(task("c")));
  EXPECT_TRUE(d.grant("w", 1000, t0));
  EXPECT_EQ(d.credit("w"), 10u);
  EXPECT_FALSE(d.grant("other", 1, t0));
}

} // namespace
} // namespace proofmesh::transport

namespace proofmesh::transport {
namespace {

TEST(credit_dispatcher, a_task_that_loses_too_many_workers_is_abandoned_not_requeued) {
  using namespace std::chrono_literals;
  credit_dispatcher d({.heartbeat_timeout = 100ms, .max_requeues = 2});
  steady_time t = {};
  d.enqueue(task("killer"));
  for (const char* w : {"w0", "w1"}) { // two workers die with it: requeued each time
    d.grant(w, 1, t);
    ASSERT_EQ(d.assign().size(), 1u);
    t += 200ms;
    d.expire(t);
    EXPECT_TRUE(d.take_abandoned().empty());
    EXPECT_EQ(d.num_queued(), 1u);
  }
  d.grant("w2", 1, t);
  ASSERT_EQ(d.assign().size(), 1u);
  t += 200ms;
  d.expire(t); // the third: abandoned, for its owner to decide
  std::vector<task_msg> gone = d.take_abandoned();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].task_id, "killer");
  EXPECT_EQ(d.num_queued(), 0u);
}

} // namespace
} // namespace proofmesh::transport
