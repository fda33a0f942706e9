// How the mesh's plain structs (wire_messages.hpp) cross a CAF mailbox inside a service: CAF 0.17
// `inspect` overloads listing every field in declaration order, the variants through
// std_inspect. Rules of the road: a field added to a struct there is added here in the same
// change; the structs themselves stay free of CAF.
#pragma once

#include "actors/common/std_inspect.hpp"
#include "actors/transport/wire_messages.hpp"

#include <caf/meta/type_name.hpp>

namespace proofmesh::transport {

using proofmesh::std_inspect::inspect;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sampling_spec& x) {
  return f(caf::meta::type_name("sampling_spec"), x.temperature, x.top_p, x.top_k, x.max_tokens,
           x.seed, x.stream, x.logprobs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generate_input& x) {
  return f(caf::meta::type_name("generate_input"), x.problem, x.refinement_context);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verify_input& x) {
  return f(caf::meta::type_name("verify_input"), x.problem, x.solution);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, meta_verify_input& x) {
  return f(caf::meta::type_name("meta_verify_input"), x.problem, x.solution, x.rating);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_turn& x) {
  return f(caf::meta::type_name("chat_turn"), x.role, x.content);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, complete_input& x) {
  return f(caf::meta::type_name("complete_input"), x.prompt, x.messages, x.stop);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_msg& x) {
  return f(caf::meta::type_name("task_msg"), x.task_id, x.job_id, x.input, x.sampling, x.attempt,
           x.pool);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generate_output& x) {
  return f(caf::meta::type_name("generate_output"), x.solution, x.self_eval, x.self_eval_score);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verify_output& x) {
  return f(caf::meta::type_name("verify_output"), x.rating, x.score);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, meta_verify_output& x) {
  return f(caf::meta::type_name("meta_verify_output"), x.analysis, x.quality);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, top_logprob& x) {
  return f(caf::meta::type_name("top_logprob"), x.token, x.logprob);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_logprob& x) {
  return f(caf::meta::type_name("token_logprob"), x.token, x.logprob, x.top);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, complete_output& x) {
  return f(caf::meta::type_name("complete_output"), x.text, x.finish_reason, x.logprobs,
           x.logprobs_offset);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_result_msg& x) {
  return f(caf::meta::type_name("task_result_msg"), x.task_id, x.status, x.output, x.error,
           x.prompt_tokens, x.completion_tokens, x.elapsed_ms);
}

} // namespace proofmesh::transport
