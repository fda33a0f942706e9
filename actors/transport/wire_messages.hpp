// The mesh's messages as plain structs: what the coordinator and the role services work with.
// FlatBuffers types never leave wire_codec.cpp (STYLE.md item 4). Rules of the road: a task's
// role is the alternative its input holds; a result's output alternative must match the role of
// its task (the coordinator checks that against its ledger, since a result does not repeat it).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace proofmesh::transport {

enum class role : uint8_t { role_generator = 0, role_verifier = 1, role_meta_verifier = 2 };

const char* role_name(role r);

struct sampling_spec {
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  int32_t max_tokens = 16;
  uint64_t seed = 0;
  uint64_t stream = 0;
  int32_t logprobs = -1; // a completion's: -1 none; n: each token's own and n alternatives
  bool operator==(const sampling_spec&) const = default;
};

struct generate_input {
  std::string problem;
  std::string refinement_context; // empty for a first-round proof
  bool operator==(const generate_input&) const = default;
};
struct verify_input {
  std::string problem;
  std::string solution;
  bool operator==(const verify_input&) const = default;
};
struct meta_verify_input {
  std::string problem;
  std::string solution;
  std::string rating;
  bool operator==(const meta_verify_input&) const = default;
};
struct chat_turn {
  std::string role; // "system", "user", "assistant"
  std::string content;
  bool operator==(const chat_turn&) const = default;
};
// A raw completion (the OpenAI-compatible API): messages for a chat, else the plain prompt.
struct complete_input {
  std::string prompt;
  std::vector<chat_turn> messages;
  std::vector<std::string> stop;
  bool operator==(const complete_input&) const = default;
};
using task_input = std::variant<generate_input, verify_input, meta_verify_input, complete_input>;

struct task_msg {
  std::string task_id; // deterministic: job/problem/round/kind/index, or completion/choice
  std::string job_id;
  task_input input;
  sampling_spec sampling;
  uint32_t attempt = 0;
  role pool = role::role_generator; // who serves a complete_input; the role inputs name theirs
  role task_role() const {
    return std::holds_alternative<complete_input>(input) ? pool : static_cast<role>(input.index());
  }
  bool operator==(const task_msg&) const = default;
};

struct generate_output {
  std::string solution;
  std::string self_eval;
  float self_eval_score = 0;
  bool operator==(const generate_output&) const = default;
};
struct verify_output {
  std::string rating;
  float score = 0;
  bool operator==(const verify_output&) const = default;
};
struct meta_verify_output {
  std::string analysis;
  float quality = 0;
  bool operator==(const meta_verify_output&) const = default;
};
// A generated token's logprob and its step's most likely alternatives; token is its bytes.
struct top_logprob {
  std::string token;
  float logprob = 0;
  bool operator==(const top_logprob&) const = default;
};
struct token_logprob {
  std::string token;
  float logprob = 0;
  std::vector<top_logprob> top;
  bool operator==(const token_logprob&) const = default;
};
struct complete_output {
  std::string text;
  std::string finish_reason; // "stop" or "length"
  std::vector<token_logprob> logprobs; // the tokens from logprobs_offset on, when asked for
  uint32_t logprobs_offset = 0;        // how many went out in progress messages before
  bool operator==(const complete_output&) const = default;
};
using task_output = std::variant<std::monostate, generate_output, verify_output,
                                 meta_verify_output, complete_output>;

enum class task_status : uint8_t {
  task_status_ok = 0,          // output holds the parsed result
  task_status_unparseable = 1, // the text did not parse; the reference drops such outputs
  task_status_failed = 2,      // the worker could not run it; error says why
  task_status_truncated = 3,   // the output hit the length limit; dropped like an unparseable one
  task_status_given_up = 4,    // how earlier ledgers kept a dead letter (now a search fact of
                               // its own); from a worker it counts as failed
  task_status_handed_back = 5, // the worker did not run it (shutting down, full): not the task's
                               // fault, so it costs the task no attempt
};

struct task_result_msg {
  std::string task_id;
  task_status status = task_status::task_status_ok;
  task_output output;
  std::string error;
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
  uint32_t elapsed_ms = 0;
  bool operator==(const task_result_msg&) const = default;
};

struct credit_msg {
  uint32_t slots = 0;
  bool operator==(const credit_msg&) const = default;
};

struct heartbeat_msg {
  std::string worker_id;
  role worker_role = role::role_generator;
  uint32_t in_flight = 0;
  uint64_t sent_at_ms = 0;
  uint32_t capacity = 0; // the worker's slots
  bool operator==(const heartbeat_msg&) const = default;
};

struct cancel_msg {
  std::string task_id;
  bool operator==(const cancel_msg&) const = default;
};

struct progress_msg {
  std::string task_id;
  uint32_t completion_tokens = 0;
  std::string text_delta;   // a completion task's text from text_offset on
  uint32_t text_offset = 0;
  std::vector<token_logprob> logprobs; // a completion task's token logprobs from logprobs_offset
  uint32_t logprobs_offset = 0;
  bool operator==(const progress_msg&) const = default;
};

using wire_message =
    std::variant<task_msg, task_result_msg, credit_msg, heartbeat_msg, cancel_msg, progress_msg>;

} // namespace proofmesh::transport
