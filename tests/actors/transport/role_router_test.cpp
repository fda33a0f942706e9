// The coordinator's ROUTER and workers' DEALERs over real ZeroMQ sockets on loopback: credits
// bound what each worker receives, two replicas both get work, a worker that goes silent has its
// tasks re-sent to another with attempt + 1 (and nothing is counted twice), and garbage on the
// socket is counted and dropped while the router keeps serving. Loops stop at a generous
// deadline so a bug fails the test instead of hanging it; no assertion is about time.
#include "actors/transport/role_router.hpp"
#include "actors/transport/worker_link.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

namespace proofmesh::transport {
namespace {

using namespace std::chrono_literals;

task_msg verify_task(int i) {
  std::string id = "job/p0/r0/verify/";
  id += std::to_string(i);
  return {.task_id = id, .job_id = "job", .input = verify_input{"P", "S"}};
}

task_result_msg answer(const task_msg& t) {
  return {.task_id = t.task_id, .output = verify_output{"rated by a test", 1.0f},
          .completion_tokens = 1};
}

struct fixture {
  zmq::context_t context;
  role_router router;
  explicit fixture(std::chrono::milliseconds timeout = 10000ms)
      : router(context, {.endpoint = "tcp://127.0.0.1:*",
                         .served = role::role_verifier,
                         .dispatch = {.heartbeat_timeout = timeout}}) {}
  std::unique_ptr<worker_link> worker(const std::string& id) {
    return std::make_unique<worker_link>(
        context, worker_link_params{.endpoint = router.endpoint(), .worker_id = id,
                                    .served = role::role_verifier,
                                    .heartbeat_interval = 50ms});
  }
};

TEST(role_router, two_replicas_share_the_work_within_their_credit) {
  fixture f;
  auto a = f.worker("verifier-a"), b = f.worker("verifier-b");
  a->grant(3);
  b->grant(3);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(f.router.submit(verify_task(i)));
  }
  std::set<std::string> done;
  std::map<std::string, int> per_worker;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (done.size() < 40 && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : f.router.poll(5ms).results) {
      EXPECT_TRUE(done.insert(r.result.task_id).second) << "counted twice: " << r.result.task_id;
    }
    for (auto* w : {a.get(), b.get()}) {
      worker_inbox in = w->poll(1ms);
      EXPECT_LE(in.tasks.size(), 3u); // never more than the credit
      for (const task_msg& t : in.tasks) {
        ++per_worker[w == a.get() ? "a" : "b"];
        w->send_result(answer(t));
      }
      w->grant(static_cast<uint32_t>(in.tasks.size())); // the slots are free again
    }
  }
  EXPECT_EQ(done.size(), 40u);
  EXPECT_GT(per_worker["a"], 0);
  EXPECT_GT(per_worker["b"], 0);
  EXPECT_EQ(f.router.drops().total(), 0u);
}

TEST(role_router, a_silent_workers_tasks_go_elsewhere_and_count_once) {
  fixture f(300ms);
  auto silent = f.worker("verifier-silent");
  silent->grant(4);
  for (int i = 0; i < 4; ++i) {
    f.router.submit(verify_task(i));
  }
  // The silent worker takes all four, then never answers (it stops polling: no heartbeats).
  std::vector<task_msg> held;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (held.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    f.router.poll(5ms);
    for (auto& t : silent->poll(1ms).tasks) {
      held.push_back(t);
    }
  }
  ASSERT_EQ(held.size(), 4u);
  auto alive = f.worker("verifier-alive");
  alive->grant(8);
  std::set<std::string> done;
  std::vector<worker_id> expired;
  std::set<uint32_t> attempts;
  deadline = std::chrono::steady_clock::now() + 20s;
  while (done.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    router_events ev = f.router.poll(5ms);
    expired.insert(expired.end(), ev.expired.begin(), ev.expired.end());
    for (auto& r : ev.results) {
      EXPECT_EQ(worker_name(r.worker), "verifier-alive");
      EXPECT_TRUE(done.insert(r.result.task_id).second);
    }
    for (const task_msg& t : alive->poll(1ms).tasks) {
      attempts.insert(t.attempt);
      alive->send_result(answer(t));
    }
  }
  EXPECT_EQ(done.size(), 4u);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(worker_name(expired[0]), "verifier-silent");
  EXPECT_EQ(attempts, std::set<uint32_t>{1});
  // The silent worker wakes up and answers late: nothing more is counted.
  for (const task_msg& t : held) {
    silent->send_result(answer(t));
  }
  size_t late = 0;
  for (int i = 0; i < 20; ++i) {
    late += f.router.poll(5ms).results.size();
  }
  EXPECT_EQ(late, 0u);
}

TEST(role_router, garbage_is_counted_and_dropped_and_service_goes_on) {
  fixture f;
  zmq::socket_t raw(f.context, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(f.router.endpoint());
  raw.send(zmq::str_buffer("not a flatbuffer"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("two"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("frames"), zmq::send_flags::none);
  std::vector<uint8_t> wrong_role = encode(heartbeat_msg{.worker_id = "g",
                                                         .worker_role = role::role_generator});
  raw.send(zmq::buffer(wrong_role), zmq::send_flags::none);
  std::vector<uint8_t> task = encode(verify_task(0)); // tasks never flow worker -> coordinator
  raw.send(zmq::buffer(task), zmq::send_flags::none);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (f.router.drops().total() < 4 && std::chrono::steady_clock::now() < deadline) {
    f.router.poll(5ms);
  }
  EXPECT_EQ(f.router.drops().count(wire_errc::wire_errc_malformed), 2u);
  EXPECT_EQ(f.router.drops().count(wire_errc::wire_errc_bad_value), 2u);
  // A well-behaved worker is still served.
  auto w = f.worker("verifier-ok");
  w->grant(1);
  f.router.submit(verify_task(7));
  bool answered = false;
  const auto second = std::chrono::steady_clock::now() + 10s;
  while (!answered && std::chrono::steady_clock::now() < second) {
    answered = !f.router.poll(5ms).results.empty();
    for (const task_msg& t : w->poll(1ms).tasks) {
      w->send_result(answer(t));
    }
  }
  EXPECT_TRUE(answered);
}

TEST(role_router, a_restarted_worker_with_the_same_id_does_not_inherit_lost_tasks) {
  // The first incarnation takes a task and dies; the second, same id, is a new identity: the
  // old one times out and its task is sent again, to the new incarnation.
  fixture f(300ms);
  f.router.submit(verify_task(0));
  std::string first_identity;
  {
    auto first = f.worker("verifier-x");
    first_identity = first->identity();
    first->grant(1);
    bool got = false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!got && std::chrono::steady_clock::now() < deadline) {
      f.router.poll(5ms);
      got = !first->poll(1ms).tasks.empty();
    }
    ASSERT_TRUE(got);
  } // the first incarnation dies holding the task
  auto second = f.worker("verifier-x");
  EXPECT_NE(second->identity(), first_identity);
  second->grant(1);
  bool answered = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!answered && std::chrono::steady_clock::now() < deadline) {
    answered = !f.router.poll(5ms).results.empty();
    for (const task_msg& t : second->poll(1ms).tasks) {
      EXPECT_EQ(t.attempt, 1u);
      second->send_result(answer(t));
    }
  }
  EXPECT_TRUE(answered);
}

TEST(role_router, refuses_a_task_of_another_role) {
  fixture f;
  EXPECT_FALSE(f.router.submit({.task_id = "g", .job_id = "j", .input = generate_input{"P", ""}}));
}

} // namespace
} // namespace proofmesh::transport
