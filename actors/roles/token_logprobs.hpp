// A completion's token logprobs in the wire's form: from what our engine sampled, or from an
// OpenAI-compatible server's answer cut to the wire's limits. Rules of the road:
// - The engine is asked for max(1, n) alternatives whenever logprobs are wanted, since it reports
//   the sampled token's own logprob only beside a top list; the list is cut back to n here.
// - A token is its bytes as the detokenizer would emit them (special tokens included), capped at
//   the wire's id size: a longer token is cut, which only a pathological vocabulary has.
// - Stop ids end a completion without being part of its text, so they get no entry (OpenAI's
//   logprobs cover the text's tokens).
#pragma once

#include "actors/engine/sampling/sampler.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/transport/wire_messages.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace proofmesh::roles {

/// What to ask the engine for, for a task that wants `logprobs` (-1: none).
int32_t engine_logprobs_for(int32_t logprobs);

/// Logprobs from elsewhere (an OpenAI-compatible server's answer) cut to what the task asked and
/// what one wire message carries, which would otherwise be dropped whole: `alternatives` per
/// token, each token an id's size, the token count, and half the message size (the text has the
/// other half). A cut list keeps the answer's first tokens.
std::vector<transport::token_logprob> within_wire_limits(std::vector<transport::token_logprob> tokens,
                                                         int32_t alternatives);

/// The entry of one sampled token; nullopt for a stop id or a step without logprobs.
std::optional<transport::token_logprob> token_logprob_of(const engine::tokenizer& tok,
                                                         int32_t token,
                                                         const engine::step_logprobs& step,
                                                         int32_t alternatives,
                                                         std::span<const int32_t> stop_ids);

} // namespace proofmesh::roles
