// The engine actor in a real actor system, on the CPU runner with a tiny random model: streams add
// up to completions equal to a direct batch_engine run; cancels, bad requests, a failing runner,
// the request limit and a dying listener each end cleanly while the actor keeps serving.
// Rules of the road: requests of `long_request` tokens stay in flight long enough for the test
// to act on them; any other wait is bounded by the fixture's wait_limit.
#include "tests/actors/engine/serving/engine_actor_fixture.hpp"

#include "tests/actors/engine/serving/flaky_runner.hpp"

#include <thread>

namespace proofmesh::engine {
namespace {

using namespace std::chrono_literals;

// A listener that goes away on its first message, as a disconnected client would.
engine_listener::behavior_type first_message_quits(engine_listener::pointer self) {
  return {[self](event_atom, const engine_event&) { self->quit(); },
          [self](failed_atom, request_id, const caf::error&) { self->quit(); }};
}

TEST_F(engine_actor_test, streams_add_up_to_completions_equal_to_a_direct_engine_run) {
  const int32_t max_tokens = 12;
  std::map<request_id, completion> direct;
  {
    std::unique_ptr<model_runner> runner = cpu_runners()();
    batch_engine engine(*runner, tok_.get(), scheduler_);
    for (size_t i = 0; i < prompts_.size(); ++i) {
      engine.submit(request(i, max_tokens));
    }
    for (int steps = 0; !engine.idle() && steps < 1000; ++steps) {
      for (engine_event& e : engine.step()) {
        if (e.finished) {
          direct[e.id] = *e.finished;
        }
      }
    }
  }
  ASSERT_EQ(direct.size(), prompts_.size());

  std::thread::id runner_thread;
  engine_actor engine = start([&runner_thread, make = cpu_runners()] {
    runner_thread = std::this_thread::get_id();
    return make();
  });
  std::vector<request_id> ids;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    caf::expected<request_id> id = submit(engine, request(i, max_tokens));
    ASSERT_TRUE(id) << sys_.render(id.error());
    ids.push_back(*id);
  }
  listen_until_ended(ids);

  int64_t total_tokens = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const heard& h = heard_.at(ids[i]);
    ASSERT_TRUE(h.last.has_value()) << "request " << i << ": " << sys_.render(h.failure);
    const completion& c = *h.last->finished;
    EXPECT_FALSE(h.last->cancelled);
    EXPECT_EQ(h.text, c.text) << "request " << i;
    EXPECT_EQ(c.ids, direct.at(static_cast<request_id>(i)).ids) << "request " << i;
    EXPECT_EQ(c.text, direct.at(static_cast<request_id>(i)).text) << "request " << i;
    EXPECT_EQ(c.logprobs.size(), c.ids.size());
    EXPECT_EQ(h.num_events, static_cast<int64_t>(c.ids.size())); // one event per token
    total_tokens += static_cast<int64_t>(c.ids.size());
  }
  EXPECT_NE(runner_thread, std::this_thread::get_id()) << "the runner is built on the actor";
  engine_stats s = stats(engine);
  EXPECT_EQ(s.num_requests, 0);
  EXPECT_EQ(s.num_generated_tokens, total_tokens);
  EXPECT_GE(s.num_steps, max_tokens);
}

TEST_F(engine_actor_test, cancel_ends_one_request_early_and_others_finish) {
  engine_actor engine = start(cpu_runners());
  request_id a = submit(engine, request(0, long_request)).value();
  request_id b = submit(engine, request(1, 6)).value();
  listen_until([&] { return heard_[a].num_events > 0; });
  self_->send(engine, cancel_atom_v, a);
  listen_until_ended({a, b});

  ASSERT_TRUE(heard_[a].last.has_value()) << sys_.render(heard_[a].failure);
  EXPECT_TRUE(heard_[a].last->cancelled);
  EXPECT_GE(heard_[a].last->finished->ids.size(), 1u);
  EXPECT_LT(heard_[a].last->finished->ids.size(), static_cast<size_t>(long_request));
  ASSERT_TRUE(heard_[b].last.has_value()) << sys_.render(heard_[b].failure);
  EXPECT_FALSE(heard_[b].last->cancelled);
  EXPECT_EQ(heard_[b].last->finished->ids.size(), 6u);
  EXPECT_EQ(heard_[b].last->finished->finish, finish_reason::finish_reason_length);
}

TEST_F(engine_actor_test, bad_requests_get_a_typed_error_and_the_actor_keeps_serving) {
  engine_actor engine = start(cpu_runners());
  const int32_t vocab = static_cast<int32_t>(config_.vocab_size);
  for (const engine_request& bad : {engine_request{.prompt = {}, .max_tokens = 4},
                                    engine_request{.prompt = {1, vocab}, .max_tokens = 4},
                                    engine_request{.prompt = {1, 2, 3}, .max_tokens = 0}}) {
    caf::expected<request_id> r = submit(engine, bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(engine_errc_of(r.error()), engine_errc::engine_errc_invalid_request)
        << sys_.render(r.error());
    EXPECT_NE(sys_.render(r.error()).find("pm_engine: invalid_request"), std::string::npos)
        << sys_.render(r.error());
  }
  caf::expected<request_id> no_listener = submit(engine, request(0, 4), engine_listener{});
  ASSERT_FALSE(no_listener);
  EXPECT_EQ(engine_errc_of(no_listener.error()), engine_errc::engine_errc_invalid_request);

  request_id good = submit(engine, request(2, 5)).value();
  listen_until_ended({good});
  ASSERT_TRUE(heard_[good].last.has_value()) << sys_.render(heard_[good].failure);
  EXPECT_EQ(heard_[good].last->finished->ids.size(), 5u);
}

TEST_F(engine_actor_test, a_failed_step_fails_requests_in_flight_and_the_actor_keeps_serving) {
  engine_actor engine = start([make = cpu_runners()] {
    // The 10th step that holds both requests fails, so both are in flight when it does; each
    // could run 1,000 steps, so neither ends before the other arrives, however late.
    return std::make_unique<testing::flaky_runner>(make(), /*fail_at=*/10, /*min_batch=*/2);
  });
  request_id a = submit(engine, request(0, 1000)).value();
  request_id b = submit(engine, request(1, 1000)).value();
  listen_until_ended({a, b});
  for (request_id id : {a, b}) {
    EXPECT_FALSE(heard_[id].last.has_value()) << "request " << id << " finished normally";
    EXPECT_EQ(engine_errc_of(heard_[id].failure), engine_errc::engine_errc_runner_failed);
    EXPECT_NE(sys_.render(heard_[id].failure).find("injected runner failure"), std::string::npos)
        << sys_.render(heard_[id].failure);
  }
  EXPECT_GT(heard_[a].num_events, 0); // it was mid-generation when the step failed

  request_id c = submit(engine, request(2, 5)).value();
  listen_until_ended({c});
  ASSERT_TRUE(heard_[c].last.has_value()) << sys_.render(heard_[c].failure);
  EXPECT_EQ(heard_[c].last->finished->ids.size(), 5u);
  engine_stats s = stats(engine);
  EXPECT_EQ(s.num_step_failures, 1);
  EXPECT_EQ(s.num_requests, 0);
  EXPECT_EQ(s.num_running, 0);
}

TEST_F(engine_actor_test, past_max_requests_submit_answers_overloaded) {
  engine_actor engine = start(cpu_runners(), /*max_requests=*/2);
  request_id a = submit(engine, request(0, long_request)).value();
  request_id b = submit(engine, request(1, long_request)).value();
  caf::expected<request_id> c = submit(engine, request(2, 4));
  ASSERT_FALSE(c);
  EXPECT_EQ(engine_errc_of(c.error()), engine_errc::engine_errc_overloaded)
      << sys_.render(c.error());

  self_->send(engine, cancel_atom_v, a);
  self_->send(engine, cancel_atom_v, b);
  listen_until_ended({a, b});
  request_id d = submit(engine, request(2, 4)).value();
  listen_until_ended({d});
  EXPECT_TRUE(heard_[d].last.has_value()) << sys_.render(heard_[d].failure);
}

TEST_F(engine_actor_test, a_dead_listener_has_its_requests_cancelled) {
  engine_actor engine = start(cpu_runners());
  engine_listener listener = sys_.spawn(first_message_quits);
  ASSERT_TRUE(submit(engine, request(0, long_request), listener));
  listener = nullptr;

  engine_stats s;
  const auto deadline = std::chrono::steady_clock::now() + wait_limit;
  do {
    std::this_thread::sleep_for(5ms);
    s = stats(engine);
  } while ((s.num_requests > 0 || s.num_running > 0 || s.num_waiting > 0) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(s.num_requests, 0);
  EXPECT_EQ(s.num_running + s.num_waiting, 0);
  EXPECT_LT(s.num_generated_tokens, long_request);
}

TEST_F(engine_actor_test, a_factory_that_throws_stops_the_actor_with_runner_failed) {
  engine_actor engine = start([]() -> std::unique_ptr<model_runner> {
    throw std::runtime_error("no device here");
  });
  self_->monitor(engine);
  caf::error reason;
  self_->receive([&](caf::down_msg& msg) { reason = msg.reason; },
                 caf::after(wait_limit) >> [] { ADD_FAILURE() << "the engine did not stop"; });
  EXPECT_EQ(engine_errc_of(reason), engine_errc::engine_errc_runner_failed) << sys_.render(reason);
  EXPECT_NE(sys_.render(reason).find("no device here"), std::string::npos) << sys_.render(reason);
}

} // namespace
} // namespace proofmesh::engine
