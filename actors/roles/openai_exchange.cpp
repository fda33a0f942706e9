#include "actors/roles/openai_exchange.hpp"

#include "actors/common/error.hpp"

namespace proofmesh::roles {

namespace pt = proofmesh::transport;
using nlohmann::json;

openai_call openai_request(const pt::task_msg& task, const std::string& prompt,
                           const std::string& model, int32_t max_tokens) {
  json body = {{"model", model},
               {"temperature", task.sampling.temperature},
               {"top_p", task.sampling.top_p},
               {"max_tokens", max_tokens}};
  if (task.sampling.top_k > 0) body["top_k"] = task.sampling.top_k;
  if (task.sampling.seed != 0) body["seed"] = task.sampling.seed;
  if (const auto* c = std::get_if<pt::complete_input>(&task.input)) {
    if (!c->stop.empty()) body["stop"] = c->stop;
    if (c->messages.empty()) {
      body["prompt"] = c->prompt;
      return {"/v1/completions", body};
    }
    json messages = json::array();
    for (const pt::chat_turn& m : c->messages) {
      messages.push_back({{"role", m.role}, {"content", m.content}});
    }
    body["messages"] = messages;
    return {"/v1/chat/completions", body};
  }
  body["messages"] = json::array({{{"role", "user"}, {"content", prompt}}});
  return {"/v1/chat/completions", body};
}

openai_answer parse_openai_answer(const json& reply) {
  if (!reply.is_object() || !reply.contains("choices") || !reply["choices"].is_array() ||
      reply["choices"].empty() || !reply["choices"][0].is_object()) {
    throw input_error("the answer has no choices[0]");
  }
  const json& choice = reply["choices"][0];
  openai_answer a;
  a.stopped = choice.contains("finish_reason") && choice["finish_reason"] == "stop";
  auto text_of = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
  if (choice.contains("message") && choice["message"].is_object()) {
    const json& m = choice["message"];
    const std::string content = m.contains("content") ? text_of(m["content"]) : "";
    const char* field = m.contains("reasoning_content") && m["reasoning_content"].is_string()
                            ? "reasoning_content"
                        : m.contains("reasoning") && m["reasoning"].is_string() ? "reasoning"
                                                                                 : nullptr;
    a.text = field == nullptr
                 ? content
                 : "<think>\n" + m[field].get<std::string>() + "\n</think>\n" + content;
  } else if (choice.contains("text")) {
    a.text = text_of(choice["text"]);
  } else {
    throw input_error("choices[0] has neither message nor text");
  }
  if (reply.contains("usage") && reply["usage"].is_object()) {
    const json& u = reply["usage"];
    auto count = [&](const char* k) {
      return u.contains(k) && u[k].is_number_unsigned() ? u[k].get<uint32_t>() : 0u;
    };
    a.prompt_tokens = count("prompt_tokens");
    a.completion_tokens = count("completion_tokens");
  }
  return a;
}

} // namespace proofmesh::roles
