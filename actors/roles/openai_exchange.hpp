// What a role service sends to an OpenAI-compatible server (vLLM, SGLang, our own gateway) and
// what it makes of the answer. Rules of the road:
// - A role task is one user message, the rendered template, as the reference's generate.py
//   sends it; a raw completion keeps its own messages or prompt. Sampling is the task's:
//   temperature, top_p, max_tokens (and seed when set).
// - The answer's text is rebuilt as the reference rebuilds it: with a reasoning field
//   (`reasoning_content`, or `reasoning` as newer vLLM names it) the text is
//   "<think>\n{reasoning}\n</think>\n{content}"; without one it is the content alone (a server
//   that does not split reasoning already sent the whole text). A null content is "".
// - finish_reason "stop" is a stop; anything else ("length", "abort", ...) did not finish, and
//   is dropped by the parser as the reference drops it.
// - A raw completion that wants logprobs asks for them in the kind's spelling (chat:
//   logprobs + top_logprobs; text: logprobs N), and the answer's are read back in either shape
//   (a token's `bytes`, where given, are its bytes; else its text).
// - Anything that is not a completion object is an input_error naming what is missing.
#pragma once

#include "actors/transport/wire_messages.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace proofmesh::roles {

struct openai_call {
  std::string path; // "/v1/chat/completions" or "/v1/completions"
  nlohmann::json body;
};

/// The request for a task whose role prompt is `prompt` (ignored for a raw completion).
openai_call openai_request(const transport::task_msg& task, const std::string& prompt,
                           const std::string& model, int32_t max_tokens);

struct openai_answer {
  std::string text;
  bool stopped = false; // finish_reason == "stop"
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
  std::vector<transport::token_logprob> logprobs; // when the answer has them
};

openai_answer parse_openai_answer(const nlohmann::json& reply);

} // namespace proofmesh::roles
