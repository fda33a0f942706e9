// The engine actor: hosts one batch_engine over one model runner, takes requests in, streams
// tokens and finish reasons out to each request's listener, and cancels on demand. Rules of the
// road:
// - It runs detached (spawn_engine does that): the runner keeps one thread for its whole life
//   (a CUDA context is per thread) and a step blocks that thread.
// - The runner is built by a factory called on the actor's own thread, never by the spawner.
//   A factory may return a runner that spans several devices (tensor parallel ranks behind one
//   model_runner); no message names a device, so world size > 1 changes no message.
// - Between two steps the mailbox is drained: a step ends by sending step_atom to itself, which
//   queues behind whatever submits and cancels arrived meanwhile.
// - Exceptions never leave a handler: bad requests answer engine_errc_invalid_request; a step
//   that throws ends every request in flight with (failed_atom, id, engine_errc_runner_failed),
//   and the actor keeps serving. If even releasing their caches throws, it quits with that error,
//   so its owner can start a fresh runner.
// - Every count has a limit: at most max_requests requests are held; a listener that dies has
//   its requests cancelled.
#pragma once

#include "actors/engine/serving/engine_types.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <functional>
#include <map>
#include <memory>

namespace proofmesh::engine {

class tokenizer;

/// The engine's mailbox. submit answers the request id, or an engine_errc error.
using engine_actor = caf::typed_actor<
    caf::replies_to<submit_atom, engine_request, engine_listener>::with<request_id>,
    caf::reacts_to<cancel_atom, request_id>, // unknown or finished ids are ignored
    caf::replies_to<stats_atom>::with<engine_stats>,
    caf::reacts_to<step_atom>>; // from itself only; others are ignored

using runner_factory = std::function<std::unique_ptr<model_runner>()>;

struct engine_actor_params {
  runner_factory make_runner;      // called once, on the actor's thread; may throw
  const tokenizer* tok = nullptr;  // outlives the actor; null: completions carry ids, no text
  scheduler_config scheduler;      // the batch engine's planner
  int64_t max_requests = 4096;     // held at once (waiting + running); more: overloaded
};

struct engine_state {
  static inline const char* name = "proofmesh.engine";

  std::unique_ptr<model_runner> runner_; // declared before engine_, which refers to it
  std::unique_ptr<batch_engine> engine_; // null if the factory failed (the actor is quitting)
  std::map<request_id, engine_listener> listeners_; // requests in flight
  std::map<caf::actor_addr, int64_t> watched_;      // monitored listener -> its requests
  int64_t max_requests_ = 0;
  bool step_pending_ = false;                       // a step_atom is in the mailbox
  int64_t num_steps_ = 0;
  int64_t num_generated_tokens_ = 0;
  int64_t num_step_failures_ = 0;
};

using engine_pointer = engine_actor::stateful_pointer<engine_state>;

/// The behavior function; spawn it detached (or call spawn_engine).
engine_actor::behavior_type engine_actor_impl(engine_pointer self, engine_actor_params params);

/// Spawns the engine actor detached.
engine_actor spawn_engine(caf::actor_system& sys, engine_actor_params params);

} // namespace proofmesh::engine
