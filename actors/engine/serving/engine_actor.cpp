// The engine actor's handlers. Every call into the engine or the runner that can throw (submit,
// step, stats, the factory) sits inside a try, so an exception becomes a typed error or a failed
// message, never a dead actor. Sections: listener bookkeeping, stepping, handlers.
#include "actors/engine/serving/engine_actor.hpp"

#include "actors/common/error.hpp"

#include <caf/actor_cast.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace proofmesh::engine {
namespace {

caf::error engine_error(engine_errc code, std::string detail) {
  return caf::make_error(code, std::move(detail));
}

std::string describe(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

// ---- listener bookkeeping ------------------------------------------------------------------

// One monitor per listener, however many requests it holds.
void watch(engine_pointer self, const engine_listener& listener) {
  if (self->state.watched_[listener.address()]++ == 0) {
    self->monitor(listener);
  }
}

void unwatch(engine_pointer self, const engine_listener& listener) {
  auto it = self->state.watched_.find(listener.address());
  if (it != self->state.watched_.end() && --it->second == 0) {
    self->demonitor(it->first);
    self->state.watched_.erase(it);
  }
}

// A dead listener's requests are cancelled; their final events then have no one to go to.
void drop_listener(engine_pointer self, const caf::actor_addr& source) {
  engine_state& st = self->state;
  st.watched_.erase(source);
  for (auto it = st.listeners_.begin(); it != st.listeners_.end();) {
    if (it->second.address() == source) {
      st.engine_->cancel(it->first);
      it = st.listeners_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- stepping --------------------------------------------------------------------------------

void request_step(engine_pointer self) {
  engine_state& st = self->state;
  if (st.step_pending_ || !st.engine_ || st.engine_->idle()) {
    return;
  }
  st.step_pending_ = true;
  self->send(caf::actor_cast<engine_actor>(self), step_atom_v);
}

void deliver(engine_pointer self, std::vector<engine_event>& events) {
  engine_state& st = self->state;
  for (engine_event& e : events) {
    st.num_generated_tokens_ += e.cancelled ? 0 : 1; // a cancellation event samples nothing
    auto it = st.listeners_.find(e.id);
    if (it == st.listeners_.end()) {
      continue; // its listener died
    }
    engine_listener listener = it->second;
    if (e.finished) {
      unwatch(self, listener);
      st.listeners_.erase(it);
    }
    self->send(listener, event_atom_v, std::move(e));
  }
}

// Every request in flight is cancelled, and one more step, which only takes the cancellations
// (nothing is left to run), releases their caches. Listeners get failed instead of the
// cancellation events, which would claim a cancel no one asked for.
void fail_in_flight(engine_pointer self, const caf::error& reason) {
  engine_state& st = self->state;
  ++st.num_step_failures_;
  for (const auto& [id, listener] : st.listeners_) {
    st.engine_->cancel(id);
  }
  std::exception_ptr cleanup_failure;
  try {
    st.engine_->step();
  } catch (...) {
    cleanup_failure = std::current_exception();
  }
  for (const auto& [id, listener] : st.listeners_) {
    self->send(listener, failed_atom_v, id, reason);
  }
  for (const auto& [addr, count] : st.watched_) {
    self->demonitor(addr);
  }
  st.listeners_.clear();
  st.watched_.clear();
  if (cleanup_failure) {
    self->quit(engine_error(engine_errc::engine_errc_runner_failed,
                            "releasing caches after a failed step: " + describe(cleanup_failure)));
  }
}

void run_step(engine_pointer self) {
  engine_state& st = self->state;
  std::vector<engine_event> events;
  try {
    events = st.engine_->step();
  } catch (...) {
    fail_in_flight(self, engine_error(engine_errc::engine_errc_runner_failed,
                                      describe(std::current_exception())));
    return;
  }
  ++st.num_steps_;
  deliver(self, events);
}

// ---- handlers --------------------------------------------------------------------------------

caf::result<request_id> submit(engine_pointer self, engine_request& request,
                               const engine_listener& listener) {
  engine_state& st = self->state;
  if (!st.engine_) {
    return engine_error(engine_errc::engine_errc_runner_failed, "the engine has no runner");
  }
  if (!listener) {
    return engine_error(engine_errc::engine_errc_invalid_request, "submit needs a listener");
  }
  if (static_cast<int64_t>(st.listeners_.size()) >= st.max_requests_) {
    return engine_error(engine_errc::engine_errc_overloaded,
                        "the engine holds " + std::to_string(st.listeners_.size()) + " requests");
  }
  request_id id = 0;
  try {
    id = st.engine_->submit(std::move(request));
  } catch (const input_error& e) {
    return engine_error(engine_errc::engine_errc_invalid_request, e.what());
  } catch (...) {
    return engine_error(engine_errc::engine_errc_runner_failed,
                        describe(std::current_exception()));
  }
  st.listeners_.emplace(id, listener);
  watch(self, listener);
  request_step(self);
  return id;
}

caf::result<engine_stats> stats(engine_pointer self) {
  const engine_state& st = self->state;
  engine_stats s{.num_requests = static_cast<int64_t>(st.listeners_.size()),
                 .num_steps = st.num_steps_,
                 .num_generated_tokens = st.num_generated_tokens_,
                 .num_step_failures = st.num_step_failures_};
  if (!st.engine_) {
    return s;
  }
  s.num_running = st.engine_->planner().num_running();
  s.num_waiting = st.engine_->planner().num_waiting();
  s.num_preemptions = st.engine_->planner().num_preemptions();
  try {
    s.runner = st.runner_->stats();
  } catch (...) {
    return engine_error(engine_errc::engine_errc_runner_failed,
                        describe(std::current_exception()));
  }
  return s;
}

} // namespace

engine_actor::behavior_type engine_actor_impl(engine_pointer self, engine_actor_params params) {
  engine_state& st = self->state;
  st.max_requests_ = params.max_requests;
  try {
    st.runner_ = params.make_runner();
    if (!st.runner_) {
      throw std::runtime_error("the runner factory returned no runner");
    }
    st.engine_ = std::make_unique<batch_engine>(*st.runner_, params.tok, params.scheduler);
  } catch (...) {
    st.engine_.reset();
    self->quit(engine_error(engine_errc::engine_errc_runner_failed,
                            "creating the runner: " + describe(std::current_exception())));
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    if (self->state.engine_) {
      drop_listener(self, msg.source);
      request_step(self);
    }
  });
  return {
      [self](submit_atom, engine_request& request, const engine_listener& listener) {
        return submit(self, request, listener);
      },
      [self](cancel_atom, request_id id) {
        if (self->state.listeners_.contains(id)) {
          self->state.engine_->cancel(id);
          request_step(self);
        }
      },
      [self](stats_atom) { return stats(self); },
      [self](step_atom) {
        if (self->current_sender() != self->ctrl()) {
          return; // only our own step_atom paces the engine
        }
        self->state.step_pending_ = false;
        run_step(self);
        request_step(self);
      },
  };
}

engine_actor spawn_engine(caf::actor_system& sys, engine_actor_params params) {
  return sys.spawn<caf::detached>(engine_actor_impl, std::move(params));
}

} // namespace proofmesh::engine
