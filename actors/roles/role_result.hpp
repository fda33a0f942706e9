// A finished completion becomes the task's typed result, by the role of the task. Rules of the
// road: a completion that did not stop (it ran out of tokens) is unparseable, as the reference
// drops it; so is one the parser rejects, or one whose score is not finite (the wire refuses
// those). Token counts travel with every result, parsed or not. A raw completion (the
// OpenAI-compatible API) is never parsed: its text and finish reason are the result.
#pragma once

#include "actors/engine/generation/completion_tracker.hpp"
#include "actors/transport/wire_messages.hpp"

#include <cstdint>

namespace proofmesh::roles {

transport::task_result_msg make_result(const transport::task_msg& task,
                                       const engine::completion& done, uint32_t prompt_tokens,
                                       uint32_t elapsed_ms);

/// The same from text alone (an external server's answer): `stopped` is finish_reason "stop".
transport::task_result_msg make_result(const transport::task_msg& task, const std::string& text,
                                       bool stopped, uint32_t prompt_tokens,
                                       uint32_t completion_tokens, uint32_t elapsed_ms);

} // namespace proofmesh::roles
