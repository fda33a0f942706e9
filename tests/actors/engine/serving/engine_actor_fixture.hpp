// The engine actor tests' fixture: a tiny random model on disk, a real actor system, and the test
// itself as the listener, recording what each request's listener heard. Rules of the road: every
// wait has a limit, so a lost message fails a test instead of hanging it; the model and tokenizer
// outlive the actor system, whose destructor waits for the engines the fixture stopped.
#pragma once

#include "actors/engine/serving/engine_actor.hpp"

#include "actors/engine/model/cpu_runner.hpp"
#include "actors/engine/model/model_init.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

namespace proofmesh::engine {

constexpr std::chrono::seconds wait_limit{60};
constexpr int32_t long_request = 1500; // tokens: in flight for hundreds of steps

// What one request's listener heard.
struct heard {
  std::string text;
  int64_t num_events = 0;
  std::optional<engine_event> last; // the event with `finished`
  caf::error failure;               // instead of `last`, when the runner failed
  bool ended() const { return last.has_value() || static_cast<bool>(failure); }
};

class engine_actor_test : public ::testing::Test {
protected:
  engine_actor_test() {
    init_random_model({.arch = model_arch::model_arch_llama, .seed = 21, .out_dir = dir_.str()});
    config_ = load_model_config(dir_.str());
    tok_ = std::make_unique<tokenizer>(tokenizer::from_file(dir_.str("tokenizer.json")));
    for (const char* text : {"Let n be a positive integer.", "Prove that", "x",
                             "Suppose the claim holds for n - 1; then for n we have",
                             "The sum of two even integers is even because"}) {
      prompts_.push_back(tok_->encode(text, true));
    }
  }
  ~engine_actor_test() override {
    for (const engine_actor& engine : engines_) {
      caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    }
  }

  runner_factory cpu_runners() const {
    return [dir = dir_.str(), config = config_] {
      return std::make_unique<cpu_runner>(
          config, weight_store::open(dir));
    };
  }

  engine_actor start(runner_factory make, int64_t max_requests = 4096) {
    engines_.push_back(spawn_engine(sys_, {.make_runner = std::move(make), .tok = tok_.get(),
                                           .scheduler = scheduler_, .max_requests = max_requests}));
    return engines_.back();
  }

  engine_request request(size_t i, int32_t max_tokens) const {
    return {.prompt = prompts_[i], .max_tokens = max_tokens,
            .sampling = {.temperature = 0.8f, .top_k = 40, .seed = 5, .num_logprobs = 1},
            .stream = i};
  }

  // The scoped actor listens itself; the cast names the interface it answers to.
  engine_listener me() { return caf::actor_cast<engine_listener>(self_.ptr()); }

  caf::expected<request_id> submit(const engine_actor& engine, engine_request r,
                                   const engine_listener& listener) {
    caf::expected<request_id> out{caf::sec::request_timeout};
    self_->request(engine, wait_limit, submit_atom_v, std::move(r), listener)
        .receive([&](request_id id) { out = id; }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  caf::expected<request_id> submit(const engine_actor& engine, engine_request r) {
    return submit(engine, std::move(r), me());
  }

  void listen_until(const std::function<bool()>& done) {
    bool timed_out = false;
    while (!done() && !timed_out) {
      self_->receive(
          [&](event_atom, engine_event& e) {
            heard& h = heard_[e.id];
            h.text += e.text;
            ++h.num_events;
            if (e.finished) {
              h.last = std::move(e);
            }
          },
          [&](failed_atom, request_id id, caf::error& err) { heard_[id].failure = std::move(err); },
          caf::after(wait_limit) >> [&] { timed_out = true; });
    }
    ASSERT_FALSE(timed_out) << "no engine message for " << wait_limit.count() << " s";
  }
  void listen_until_ended(const std::vector<request_id>& ids) {
    listen_until([&] {
      return std::all_of(ids.begin(), ids.end(), [&](request_id id) { return heard_[id].ended(); });
    });
  }

  engine_stats stats(const engine_actor& engine) {
    engine_stats out;
    self_->request(engine, wait_limit, stats_atom_v)
        .receive([&](engine_stats& s) { out = s; },
                 [&](caf::error& err) { ADD_FAILURE() << sys_.render(err); });
    return out;
  }

  // The model outlives the actor system, whose destructor waits for the engines to exit.
  testing::temp_dir dir_;
  model_config config_;
  std::unique_ptr<tokenizer> tok_;
  std::vector<std::vector<int32_t>> prompts_;
  scheduler_config scheduler_{.max_running = 8, .max_step_tokens = 256, .block_size = 4,
                              .total_blocks = 4096};
  caf::actor_system_config cfg_;
  caf::actor_system sys_{add_engine_types(cfg_)};
  caf::scoped_actor self_{sys_};
  std::vector<engine_actor> engines_;
  std::map<request_id, heard> heard_;
};

} // namespace proofmesh::engine
