// The `jobs` stream on a real redis-server: jobs go to one coordinator each, a dead
// coordinator's pending jobs are reclaimed by another, malformed entries come back marked for
// the dead-letter stream, and a Redis restart (AOF) loses nothing while the client reconnects.
#include "actors/transport/job_queue.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace proofmesh::transport {
namespace {

using namespace std::chrono_literals;

redis_client_params client_params(const testing::redis_server& server) {
  return {.port = server.port(), .password = server.password(), .backoff_initial = 20ms};
}

TEST(job_queue, each_job_goes_to_one_coordinator_and_acks_clear_it) {
  testing::redis_server server;
  redis_client ra(client_params(server)), rb(client_params(server));
  job_queue a(ra, {.consumer = "coordinator-a", .max_batch = 2});
  job_queue b(rb, {.consumer = "coordinator-b", .max_batch = 2});
  std::set<std::string> added;
  for (int i = 0; i < 3; ++i) {
    added.insert(a.add("{\"problems\": [" + std::to_string(i) + "]}"));
  }
  EXPECT_EQ(a.depth(), 3);
  auto first = a.read(10ms);
  auto second = b.read(10ms);
  ASSERT_EQ(first.size(), 2u); // max_batch
  ASSERT_EQ(second.size(), 1u);
  std::set<std::string> seen;
  for (const auto& batch : {first, second}) {
    for (const job_entry& e : batch) {
      EXPECT_TRUE(e.valid) << e.why;
      EXPECT_TRUE(seen.insert(e.id).second);
    }
  }
  EXPECT_EQ(seen, added);
  EXPECT_TRUE(a.read(10ms).empty());
  EXPECT_EQ(a.num_pending(), 3);
  for (const job_entry& e : first) a.ack(e.id);
  for (const job_entry& e : second) b.ack(e.id);
  EXPECT_EQ(a.num_pending(), 0);
  EXPECT_EQ(a.depth(), 0);
}

TEST(job_queue, a_dead_coordinators_jobs_are_reclaimed) {
  testing::redis_server server;
  redis_client ra(client_params(server)), rb(client_params(server)), rc(client_params(server));
  job_queue dead(ra, {.consumer = "coordinator-dead"});
  job_queue patient(rc, {.consumer = "coordinator-patient", .min_idle = 600000ms});
  job_queue live(rb, {.consumer = "coordinator-live", .min_idle = 100ms});
  const std::string id = dead.add("{}");
  ASSERT_EQ(dead.read(10ms).size(), 1u); // read, never acked: the coordinator died
  EXPECT_TRUE(patient.reclaim().empty()); // not idle for ten minutes
  std::this_thread::sleep_for(150ms);
  auto reclaimed = live.reclaim();
  ASSERT_EQ(reclaimed.size(), 1u);
  EXPECT_EQ(reclaimed[0].id, id);
  live.ack(id);
  EXPECT_EQ(live.num_pending(), 0);
}

// A live coordinator keeps what it works on: an entry it refreshes (keep) is never idle long
// enough for another to reclaim it, however long the job runs; left alone, it would be taken.
TEST(job_queue, kept_entries_are_not_reclaimed) {
  testing::redis_server server;
  redis_client ra(client_params(server)), rb(client_params(server));
  job_queue busy(ra, {.consumer = "coordinator-busy"});
  job_queue rival(rb, {.consumer = "coordinator-rival", .min_idle = 1000ms});
  const std::string kept = busy.add("{}");
  const std::string left = busy.add("{}");
  ASSERT_EQ(busy.read(10ms).size(), 2u);
  for (int i = 0; i < 4; ++i) { // 1.2 s in all, each step far shorter than min_idle
    std::this_thread::sleep_for(300ms);
    busy.keep({kept});
  }
  auto taken = rival.reclaim();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].id, left);
}

TEST(job_queue, malformed_entries_are_marked_not_parsed) {
  testing::redis_server server;
  redis_client r(client_params(server));
  job_queue q(r, {.consumer = "c"});
  r.command({"XADD", "jobs", "*", "something", "else"});
  r.command({"XADD", "jobs", "*", "v", "99", "job", "{}"});
  q.add("{\"ok\": true}");
  auto got = q.read(10ms);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_FALSE(got[0].valid);
  EXPECT_NE(got[0].why.find("no `job` field"), std::string::npos);
  EXPECT_FALSE(got[1].valid);
  EXPECT_NE(got[1].why.find("version"), std::string::npos);
  EXPECT_TRUE(got[2].valid);
}

TEST(job_queue, a_redis_restart_loses_nothing_and_the_client_reconnects) {
  testing::redis_server server;
  redis_client r(client_params(server));
  job_queue q(r, {.consumer = "c"});
  const std::string id = q.add("{\"n\": 1}");
  ASSERT_EQ(q.read(10ms).size(), 1u);
  server.restart(/*hard=*/true); // SIGKILL: only the AOF (fsync always) survives
  EXPECT_EQ(q.num_pending(), 1); // the pending entry and the group came back
  EXPECT_GE(r.num_reconnects(), 1);
  q.add("{\"n\": 2}");
  auto next = q.read(10ms);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].body, "{\"n\": 2}");
}

// Redis restarted empty (no AOF, a lost volume; FLUSHALL here): the queue makes its stream and
// group again wherever it is used, instead of failing every call on NOGROUP.
TEST(job_queue, a_redis_that_lost_everything_gets_the_stream_and_group_again) {
  testing::redis_server server;
  redis_client r(client_params(server)), admin(client_params(server));
  job_queue q(r, {.consumer = "c"});
  q.add("{\"n\": 1}");
  ASSERT_EQ(q.read(10ms).size(), 1u);
  ASSERT_EQ(admin.command({"FLUSHALL"}).str, "OK");
  EXPECT_EQ(q.depth(), 0);       // XINFO GROUPS: no such key
  ASSERT_EQ(admin.command({"FLUSHALL"}).str, "OK");
  EXPECT_EQ(q.num_pending(), 0); // XPENDING: NOGROUP
  ASSERT_EQ(admin.command({"FLUSHALL"}).str, "OK");
  EXPECT_TRUE(q.read(10ms).empty()); // XREADGROUP: NOGROUP
  ASSERT_EQ(admin.command({"FLUSHALL"}).str, "OK");
  EXPECT_TRUE(q.reclaim().empty());  // XAUTOCLAIM: NOGROUP
  ASSERT_EQ(admin.command({"FLUSHALL"}).str, "OK");
  job_queue* both[] = {&q};
  EXPECT_TRUE(job_queue::read_all(both, 10ms)[0].empty());
  const std::string id = q.add("{\"n\": 2}");
  const auto next = q.read(10ms);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].id, id);
}

TEST(redis_client, a_wrong_password_and_no_server_are_clear_errors) {
  testing::redis_server server;
  redis_client wrong({.port = server.port(), .password = "nope", .max_attempts = 2,
                      .backoff_initial = 1ms});
  try {
    wrong.command({"PING"});
    FAIL() << "AUTH should have failed";
  } catch (const redis_unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("AUTH"), std::string::npos) << e.what();
  }
  server.stop(SIGKILL);
  redis_client none({.port = server.port(), .max_attempts = 2, .backoff_initial = 1ms});
  EXPECT_THROW(none.command({"PING"}), redis_unavailable);
}

// A script past busy-reply-threshold makes Redis answer BUSY to every other command: that is
// waiting, not an answer. The client retries it as it retries a lost connection, then says
// redis_unavailable; once the script is killed, the same client goes on.
TEST(redis_client, busy_with_a_script_is_waited_out_not_taken_for_an_answer) {
  testing::redis_server server;
  redis_client admin(client_params(server));
  ASSERT_FALSE(admin.command({"CONFIG", "SET", "busy-reply-threshold", "50"}).is_error());
  ASSERT_FALSE(admin.command({"SET", "k", "v"}).is_error());
  std::thread script([&] {
    redis_client runner(client_params(server));
    runner.command({"EVAL", "while true do end", "0"}, redis_retry::redis_retry_never);
  });
  redis_client busy({.port = server.port(), .password = server.password(), .max_attempts = 3,
                     .backoff_initial = 1ms});
  bool saw_busy = false;
  for (int i = 0; i < 200 && !saw_busy; ++i) { // until the script has run past the threshold
    try {
      busy.command({"GET", "k"});
      std::this_thread::sleep_for(10ms);
    } catch (const redis_unavailable& e) {
      EXPECT_NE(std::string(e.what()).find("BUSY"), std::string::npos) << e.what();
      saw_busy = true;
    }
  }
  EXPECT_TRUE(saw_busy);
  for (int i = 0; i < 100 && admin.command({"SCRIPT", "KILL"}).is_error(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  script.join();
  EXPECT_EQ(busy.command({"GET", "k"}).str, "v");
}

} // namespace
} // namespace proofmesh::transport
