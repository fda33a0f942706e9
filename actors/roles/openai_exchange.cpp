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
    const int32_t lp = task.sampling.logprobs;
    if (c->messages.empty()) {
      body["prompt"] = c->prompt;
      if (lp >= 0) body["logprobs"] = lp;
      return {"/v1/completions", body};
    }
    if (lp >= 0) {
      body["logprobs"] = true;
      body["top_logprobs"] = lp;
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

namespace {

float logprob_of(const json& v) {
  return v.is_number() ? std::min(0.0f, v.get<float>()) : -9999.0f; // null: OpenAI's "-inf"
}

std::string token_of(const json& entry) {
  if (entry.contains("bytes") && entry["bytes"].is_array()) {
    std::string out;
    for (const json& b : entry["bytes"]) {
      if (b.is_number_unsigned() && b.get<uint64_t>() < 256) out += static_cast<char>(b.get<int>());
    }
    return out;
  }
  return entry.value("token", "");
}

// Chat's {"content": [{token, logprob, bytes, top_logprobs}]} or text's parallel lists.
std::vector<pt::token_logprob> logprobs_of(const json& lp) {
  std::vector<pt::token_logprob> out;
  if (!lp.is_object()) return out;
  if (lp.contains("content") && lp["content"].is_array()) {
    for (const json& t : lp["content"]) {
      if (!t.is_object()) continue;
      pt::token_logprob one{.token = token_of(t),
                            .logprob = logprob_of(t.value("logprob", json()))};
      for (const json& a : t.value("top_logprobs", json::array())) {
        if (a.is_object()) one.top.push_back({token_of(a), logprob_of(a.value("logprob", json()))});
      }
      out.push_back(std::move(one));
    }
    return out;
  }
  const json tokens = lp.value("tokens", json::array());
  const json values = lp.value("token_logprobs", json::array());
  const json tops = lp.value("top_logprobs", json::array());
  for (size_t i = 0; i < tokens.size() && i < values.size(); ++i) {
    pt::token_logprob one{.token = tokens[i].is_string() ? tokens[i].get<std::string>() : "",
                          .logprob = logprob_of(values[i])};
    if (i < tops.size() && tops[i].is_object()) {
      for (const auto& [token, v] : tops[i].items()) one.top.push_back({token, logprob_of(v)});
    }
    out.push_back(std::move(one));
  }
  return out;
}

} // namespace

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
  if (choice.contains("logprobs")) a.logprobs = logprobs_of(choice["logprobs"]);
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
