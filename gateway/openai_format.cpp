#include "gateway/openai_format.hpp"

#include "actors/common/bounded_json.hpp"
#include "gateway/api_error.hpp"

namespace proofmesh::gateway {

using enum transport::api_code;

using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A coordinator's error event's code; anything unknown is ours to call internal.
transport::api_code code_of(const nlohmann::json& error) {
  const nlohmann::json& code = error.contains("code") ? error["code"] : nlohmann::json();
  return (code.is_string() ? transport::parse_api_code(code.get<std::string>()) : std::nullopt)
      .value_or(api_code_internal);
}

} // namespace

openai_format::openai_format(const pipeline::completion_request& r, bool split_reasoning,
                             std::function<void()> on_abandon)
    : id_(r.id), model_(r.model), kind_(r.kind), created_(r.created), stream_(r.stream),
      include_usage_(r.include_usage), split_(split_reasoning && chat()),
      logprobs_(r.logprobs >= 0), on_abandon_(std::move(on_abandon)),
      splitters_(static_cast<size_t>(r.n)), texts_(static_cast<size_t>(r.n)),
      tokens_(static_cast<size_t>(r.n), json::array()),
      token_offsets_(static_cast<size_t>(r.n), 0), finish_(static_cast<size_t>(r.n)) {}

json openai_format::logprobs_of(size_t i, const json& tokens) const {
  if (!logprobs_) return nullptr;
  if (chat()) return {{"content", tokens}, {"refusal", nullptr}};
  json out = {{"tokens", json::array()}, {"token_logprobs", json::array()},
              {"top_logprobs", json::array()}, {"text_offset", json::array()}};
  for (const json& t : tokens) {
    out["tokens"].push_back(t.value("token", ""));
    out["token_logprobs"].push_back(t.value("logprob", 0.0));
    json top = json::object();
    for (const json& a : t.value("top_logprobs", json::array())) {
      top[a.value("token", "")] = a.value("logprob", 0.0);
    }
    out["top_logprobs"].push_back(std::move(top));
    out["text_offset"].push_back(token_offsets_[i]);
    token_offsets_[i] += t.value("bytes", json::array()).size();
  }
  return out;
}

json openai_format::chunk(json choices) const {
  json c = {{"id", id_},
            {"object", chat() ? "chat.completion.chunk" : "text_completion"},
            {"created", created_},
            {"model", model_},
            {"choices", std::move(choices)}};
  if (include_usage_) c["usage"] = nullptr; // OpenAI's chunks say "no usage yet" explicitly
  return c;
}

std::string openai_format::data(const json& j) const { return "data: " + dump(j) + "\n\n"; }

std::string openai_format::open() {
  if (!stream_) return {};
  std::string out = sse_head();
  if (chat()) { // each choice opens with the assistant's role, as OpenAI's streams do
    for (size_t i = 0; i < texts_.size(); ++i) {
      out += data(chunk(json::array({{{"index", i},
                                      {"delta", {{"role", "assistant"}, {"content", ""}}},
                                      {"logprobs", logprobs_of(i, json::array())},
                                      {"finish_reason", nullptr}}})));
    }
  }
  return out;
}

std::string openai_format::keepalive() { return stream_ ? ": keep-alive\n\n" : std::string(); }

void openai_format::abandoned() {
  if (on_abandon_) on_abandon_();
}

std::string openai_format::delta(size_t i, const std::string& text, const json& tokens) {
  texts_[i] += text;
  if (!stream_) {
    if (logprobs_) tokens_[i].insert(tokens_[i].end(), tokens.begin(), tokens.end());
    return {};
  }
  if (text.empty() && tokens.empty()) return {};
  if (!chat()) {
    return data(chunk(json::array({{{"index", i}, {"text", text},
                                    {"logprobs", logprobs_of(i, tokens)},
                                    {"finish_reason", nullptr}}})));
  }
  json d = json::object();
  if (split_) {
    reasoning_splitter::delta parts = splitters_[i].feed(text);
    if (!parts.reasoning.empty()) d["reasoning_content"] = parts.reasoning;
    if (!parts.content.empty()) d["content"] = parts.content;
    // Held back (a tag may be forming): only logprobs, if any, go out now.
    if (d.empty() && (!logprobs_ || tokens.empty())) return {};
  } else if (!text.empty()) {
    d["content"] = text;
  }
  return data(chunk(json::array({{{"index", i}, {"delta", d},
                                  {"logprobs", logprobs_of(i, tokens)},
                                  {"finish_reason", nullptr}}})));
}

std::string openai_format::finish_choice(size_t i, const std::string& reason) {
  finish_[i] = reason;
  if (!stream_) return {};
  std::string out;
  if (split_) {
    reasoning_splitter::delta rest = splitters_[i].finish();
    json d = json::object();
    if (!rest.reasoning.empty()) d["reasoning_content"] = rest.reasoning;
    if (!rest.content.empty()) d["content"] = rest.content;
    if (!d.empty()) {
      out += data(chunk(json::array(
          {{{"index", i}, {"delta", d}, {"logprobs", nullptr}, {"finish_reason", nullptr}}})));
    }
  }
  json last = {{"index", i}, {"logprobs", nullptr}, {"finish_reason", reason}};
  if (chat()) {
    last["delta"] = json::object();
  } else {
    last["text"] = "";
  }
  return out + data(chunk(json::array({last})));
}

frame openai_format::on_event(const stream_event& e) {
  std::string text = text_of(e);
  return text.empty() ? nullptr : std::make_shared<const std::string>(std::move(text));
}

std::string openai_format::text_of(const stream_event& e) {
  const json ev = parse_bounded_json(e.json);
  if (!ev.is_object()) return {};
  const std::string type = ev.value("type", "");
  const size_t index = ev.value("index", size_t{0});
  if ((type == "delta" || type == "choice") && index >= texts_.size()) return {};
  if (type == "delta") {
    const json none = json::array();
    const json& tokens = ev.contains("logprobs") && ev["logprobs"].is_array() ? ev["logprobs"]
                                                                              : none;
    return delta(index, ev.value("text", ""), tokens);
  }
  if (type == "choice") return finish_choice(index, ev.value("finish_reason", "stop"));
  if (type == "completed") {
    usage_ = ev.value("usage", json::object());
    if (stream_ && include_usage_) {
      json u = chunk(json::array());
      u["usage"] = usage_;
      return data(u);
    }
    return {};
  }
  if (type == "cancelled") {
    cancelled_ = true;
    return {};
  }
  if (type == "error") {
    const transport::api_code code = code_of(ev);
    error_ = {{"message", ev.value("message", "the completion failed")},
              {"type", transport::api_code_type(code)},
              {"code", transport::api_code_name(code)}};
    return stream_ ? data({{"error", error_}}) : std::string();
  }
  return {};
}

std::string openai_format::close() {
  if (stream_) return "data: [DONE]\n\n";
  return buffered_answer();
}

std::string openai_format::buffered_answer() const {
  int status = 200;
  std::string body;
  if (!error_.is_null()) {
    status = transport::api_code_status(code_of(error_));
    body = error_body(code_of(error_), error_.value("message", ""));
  } else if (cancelled_) {
    status = 499; // nobody reads it: the client is gone when a completion is cancelled
    body = error_body(api_code_cancelled, "the request was cancelled");
  } else {
    json choices = json::array();
    for (size_t i = 0; i < texts_.size(); ++i) {
      json c = {{"index", i}, {"logprobs", logprobs_of(i, tokens_[i])},
                {"finish_reason", finish_[i]}};
      if (chat()) {
        json message = {{"role", "assistant"}, {"content", texts_[i]}};
        if (split_) {
          reasoning_parts parts = split_reasoning(texts_[i]);
          message["reasoning_content"] = parts.reasoning ? json(*parts.reasoning) : json(nullptr);
          message["content"] = parts.content ? json(*parts.content) : json(nullptr);
        }
        c["message"] = message;
      } else {
        c["text"] = texts_[i];
      }
      choices.push_back(std::move(c));
    }
    json answer = {{"id", id_},
                   {"object", chat() ? "chat.completion" : "text_completion"},
                   {"created", created_},
                   {"model", model_},
                   {"choices", choices},
                   {"usage", usage_}};
    body = dump(answer);
  }
  return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace proofmesh::gateway
