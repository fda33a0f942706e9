// A request of the OpenAI-compatible API (POST /v1/chat/completions or /v1/completions), checked
// once by the gateway and carried through the `completions` stream to a coordinator, which runs
// it as n completion tasks on the pool its model names. Rules of the road:
// - Models name role pools: proofmesh-generator, proofmesh-verifier, proofmesh-meta-verifier.
// - Supported fields: model, messages (chat) or prompt (text, one string), n, temperature,
//   top_p, max_tokens (or max_completion_tokens), stop (a string or up to 4), seed, stream,
//   stream_options.include_usage, logprobs (chat: with top_logprobs). Other fields OpenAI
//   clients send are ignored, as vLLM does; a supported field of the wrong type or range is an
//   input_error naming it.
// - The queue form is our own JSON (to_queue_json), versioned by the stream entry like jobs,
//   and parsed back with the same checks (from_queue_json), so a hand-written entry cannot
//   reach a worker unchecked.
// - Task ids are "<request id>/<choice index>"; each choice samples its own stream of the seed.
#pragma once

#include "actors/transport/wire_messages.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::pipeline {

enum class completion_kind : uint8_t { completion_kind_chat, completion_kind_text };

struct completion_request {
  std::string id; // chatcmpl-… or cmpl-…, [A-Za-z0-9_-]
  completion_kind kind = completion_kind::completion_kind_chat;
  std::string model;
  transport::role pool = transport::role::role_generator;
  std::string prompt;                        // text
  std::vector<transport::chat_turn> messages; // chat
  std::vector<std::string> stop;
  int32_t n = 1;
  int32_t max_tokens = 4096;
  float temperature = 1.0f;
  float top_p = 1.0f;
  uint64_t seed = 0;
  bool stream = false;
  bool include_usage = false;
  int32_t logprobs = -1; // -1: none; n: each token's logprob with n alternatives (chat:
                         // logprobs + top_logprobs; text: logprobs n)
  int64_t created = 0; // unix seconds, echoed in every answer
};

struct completion_limits {
  int32_t max_n = 16;
  size_t max_messages = 256;
  size_t max_stop = 4;
  size_t max_stop_bytes = 256;
  int32_t max_tokens = 1 << 20;
  size_t max_text_bytes = size_t{2} << 20; // prompt, or all messages' contents together
  int32_t max_top_logprobs = 20;           // OpenAI's cap for top_logprobs
};

/// The pool a model name serves; nullopt for a model we do not have.
std::optional<transport::role> pool_of_model(std::string_view model);
/// The model names, in pool order.
const std::vector<std::string>& served_models();

/// From an OpenAI request body; `id`, `seed` (when the body has none) and `created` are the
/// caller's. Throws input_error naming the field.
completion_request parse_openai_request(const nlohmann::json& body, completion_kind kind,
                                        const completion_limits& limits = {});

std::string to_queue_json(const completion_request& request);
completion_request from_queue_json(const std::string& text, const completion_limits& limits = {});

/// One task per choice.
std::vector<transport::task_msg> completion_tasks(const completion_request& request);

} // namespace proofmesh::pipeline
