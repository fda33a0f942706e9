// The OpenAI-compatible answers, written from a completion's events (completion_runs.hpp):
// - streaming: server-sent `data: {chunk}` lines (chat.completion.chunk or text_completion),
//   a first chunk per choice naming the assistant's role, deltas as they come, a chunk with
//   each choice's finish_reason, the usage chunk when stream_options.include_usage asks, then
//   `data: [DONE]`; an error mid-stream is a `data: {"error": ...}` line before [DONE];
// - buffered: one chat.completion or text_completion object when the last event arrives, or
//   the error as an HTTP status and JSON body.
// Logprobs, when asked for, come in OpenAI's shape of each kind: chat's
// `{"content": [{token, logprob, bytes, top_logprobs}], "refusal": null}`, text's parallel lists
// `{tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}`; a chunk carries its
// delta's tokens, a buffered choice all of them, and `null` stands where none were asked for.
// Chat answers split reasoning at </think> (reasoning_split.hpp) when the parser is on.
// abandoned() runs the callback it was given (the gateway marks the request cancelled).
#pragma once

#include "actors/pipeline/completion_request.hpp"
#include "gateway/reasoning_split.hpp"
#include "gateway/stream_format.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

namespace proofmesh::gateway {

class openai_format : public stream_format {
public:
  openai_format(const pipeline::completion_request& request, bool split_reasoning,
                std::function<void()> on_abandon);

  std::string open() override;
  frame on_event(const stream_event& e) override;
  std::string close() override;
  std::string keepalive() override;
  void abandoned() override;

private:
  std::string text_of(const stream_event& e); // on_event's bytes, made for this answer
  bool chat() const { return kind_ == pipeline::completion_kind::completion_kind_chat; }
  nlohmann::json chunk(nlohmann::json choices) const;
  std::string data(const nlohmann::json& j) const;
  std::string delta(size_t index, const std::string& text, const nlohmann::json& logprobs);
  nlohmann::json logprobs_of(size_t index, const nlohmann::json& tokens) const;
  std::string finish_choice(size_t index, const std::string& reason);
  std::string buffered_answer() const;

  std::string id_, model_;
  pipeline::completion_kind kind_;
  int64_t created_;
  bool stream_, include_usage_, split_, logprobs_;
  std::function<void()> on_abandon_;
  std::vector<reasoning_splitter> splitters_;
  std::vector<std::string> texts_;
  std::vector<nlohmann::json> tokens_; // a buffered answer's token logprobs, per choice
  // A text completion's text_offset of each choice's next token (chunks come one by one).
  mutable std::vector<size_t> token_offsets_;
  std::vector<std::string> finish_;
  nlohmann::json usage_;
  nlohmann::json error_; // set: the request ended in an error
  bool cancelled_ = false;
};

} // namespace proofmesh::gateway
