// Every type that crosses the engine actor's mailbox, in one CAF type-ID block (STYLE.md item 4):
// the atoms, the listener interface and the plain structs. Rules of the road:
// - One block for the whole engine module, starting at caf::first_custom_type_id; the mesh's block
//   (a later issue) starts where this one ends (caf::id_block::proofmesh_engine::end).
// - Append only: a reordered block renumbers types that other nodes may already use.
// - A process that hosts or talks to the engine calls add_engine_types on its config first.
#pragma once

#include "actors/engine/serving/engine_errc.hpp"
#include "actors/engine/serving/engine_inspect.hpp"
#include "actors/engine/serving/engine_stats.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

// Atom texts carry a "pm_" prefix: CAF 0.17 atoms are compared by text, and "stats" or "cancel"
// could also be someone else's.
CAF_BEGIN_TYPE_ID_BLOCK(proofmesh_engine, caf::first_custom_type_id)

  CAF_ADD_ATOM(proofmesh_engine, proofmesh::engine, submit_atom, "pm_submit")
  CAF_ADD_ATOM(proofmesh_engine, proofmesh::engine, cancel_atom, "pm_cancel")
  CAF_ADD_ATOM(proofmesh_engine, proofmesh::engine, stats_atom, "pm_stats")
  CAF_ADD_ATOM(proofmesh_engine, proofmesh::engine, step_atom, "pm_step")
  CAF_ADD_ATOM(proofmesh_engine, proofmesh::engine, event_atom, "pm_event")
  CAF_ADD_ATOM(proofmesh_engine, proofmesh::engine, failed_atom, "pm_failed")

  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::sampling_params))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::step_logprobs))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::finish_reason))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::completion))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::engine_request))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::engine_event))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::runner_stats))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::engine_stats))
  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::engine_errc))

// The listener handle travels inside submit, so it needs an ID too; its alias sits inside the
// block because it names the atoms above.
namespace proofmesh::engine {

/// Who hears a request's progress: one event per step that moved it, the last one with
/// `finished` set; or, if the runner failed, one failed message instead of that last event.
using engine_listener =
    caf::typed_actor<caf::reacts_to<event_atom, engine_event>,
                     caf::reacts_to<failed_atom, request_id, caf::error>>;

} // namespace proofmesh::engine

  CAF_ADD_TYPE_ID(proofmesh_engine, (proofmesh::engine::engine_listener))

CAF_END_TYPE_ID_BLOCK(proofmesh_engine)

namespace proofmesh::engine {

/// Registers the block above and renders engine_errc by name in CAF's error strings; returns
/// `cfg`, so a system can be built in one line: `caf::actor_system sys{add_engine_types(cfg)}`.
caf::actor_system_config& add_engine_types(caf::actor_system_config& cfg);

} // namespace proofmesh::engine
