// How the engine's plain structs cross a mailbox: CAF 0.17 `inspect` overloads, one per struct,
// each listing every field in declaration order. Rules of the road: a field added to one of these
// structs is added here in the same change, or it silently stays behind when the mesh sends the
// struct to another node; the structs themselves stay free of CAF.
#pragma once

#include "actors/common/std_inspect.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "actors/engine/serving/engine_stats.hpp"

#include <caf/meta/type_name.hpp>

namespace proofmesh::engine {

using proofmesh::std_inspect::inspect; // std::optional fields

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sampling_params& x) {
  return f(caf::meta::type_name("sampling_params"), x.temperature, x.top_p, x.top_k, x.seed,
           x.num_logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_logprobs& x) {
  return f(caf::meta::type_name("step_logprobs"), x.top_ids, x.top_logprobs,
           x.token_logprob);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, completion& x) {
  return f(caf::meta::type_name("completion"), x.ids, x.text, x.finish, x.logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_request& x) {
  return f(caf::meta::type_name("engine_request"), x.prompt, x.max_tokens, x.sampling,
           x.stop_strings, x.stop_ids, x.stream);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_event& x) {
  return f(caf::meta::type_name("engine_event"), x.id, x.text, x.token, x.logprobs,
           x.finished, x.cancelled);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, runner_stats& x) {
  return f(caf::meta::type_name("runner_stats"), x.prefix_hit_tokens, x.free_kv_blocks,
           x.graph_steps, x.graph_captures);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_stats& x) {
  return f(caf::meta::type_name("engine_stats"), x.num_requests, x.num_running, x.num_waiting,
           x.num_steps, x.num_generated_tokens, x.num_preemptions, x.num_step_failures, x.runner);
}

} // namespace proofmesh::engine
