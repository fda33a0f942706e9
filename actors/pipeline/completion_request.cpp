#include "actors/pipeline/completion_request.hpp"

#include "actors/common/bounded_json.hpp"
#include "actors/common/error.hpp"
#include "actors/common/names.hpp"

#include <cmath>

namespace proofmesh::pipeline {

namespace {

using nlohmann::json;
namespace pt = proofmesh::transport;

int32_t int_field(const json& body, const char* name, int32_t fallback, int32_t lo, int32_t hi) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  const json& v = body[name];
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    throw input_error(std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
  }
  return static_cast<int32_t>(v.get<int64_t>());
}

float float_field(const json& body, const char* name, float fallback, double lo, double hi,
                  bool open_low = false) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  const json& v = body[name];
  const double x = v.is_number() ? v.get<double>() : NAN;
  if (!std::isfinite(x) || x < lo || x > hi || (open_low && x == lo)) {
    throw input_error(std::string(name) + " must be a number in " + (open_low ? "(" : "[") +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<float>(x);
}

std::string text_field(const json& v, const std::string& name, size_t cap, size_t& budget) {
  if (!v.is_string()) throw input_error(name + " must be a string");
  const std::string s = v.get<std::string>();
  if (s.size() > cap || s.size() > budget) {
    throw input_error(name + " is too long (the texts of a request are limited to " +
                      std::to_string(cap) + " bytes)");
  }
  budget -= s.size();
  return s;
}

// A message's content: a string, or OpenAI's list of parts of which we take the text ones.
std::string content_of(const json& m, const std::string& where, size_t cap, size_t& budget) {
  if (!m.contains("content") || m["content"].is_null()) return {};
  const json& c = m["content"];
  if (c.is_string()) return text_field(c, where + ".content", cap, budget);
  if (!c.is_array()) throw input_error(where + ".content must be a string or a list of parts");
  std::string out;
  for (const json& part : c) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text")) {
      throw input_error(where + ".content: only text parts are supported");
    }
    out += text_field(part["text"], where + ".content[].text", cap, budget);
  }
  return out;
}

// OpenAI's two spellings: chat asks `logprobs: true` with `top_logprobs` alternatives (which
// need logprobs), text asks `logprobs: N`. -1: none.
int32_t logprobs_field(const json& body, completion_kind kind, int32_t max_top) {
  const bool given = body.contains("logprobs") && !body["logprobs"].is_null();
  if (kind == completion_kind::completion_kind_text) {
    return given ? int_field(body, "logprobs", -1, 0, max_top) : -1;
  }
  if (given && !body["logprobs"].is_boolean()) throw input_error("logprobs must be true or false");
  const bool wanted = given && body["logprobs"].get<bool>();
  const bool top_given = body.contains("top_logprobs") && !body["top_logprobs"].is_null();
  if (top_given && !wanted) throw input_error("top_logprobs needs logprobs: true");
  return wanted ? int_field(body, "top_logprobs", 0, 0, max_top) : -1;
}

} // namespace

const std::vector<std::string>& served_models() {
  static const std::vector<std::string> names = {"proofmesh-generator", "proofmesh-verifier",
                                                 "proofmesh-meta-verifier"};
  return names;
}

std::optional<pt::role> pool_of_model(std::string_view model) {
  for (size_t i = 0; i < served_models().size(); ++i) {
    if (served_models()[i] == model) return static_cast<pt::role>(i);
  }
  return std::nullopt;
}

completion_request parse_openai_request(const json& body, completion_kind kind,
                                        const completion_limits& limits) {
  if (!body.is_object()) throw input_error("the body must be a JSON object");
  completion_request r{.kind = kind};
  if (!body.contains("model") || !body["model"].is_string()) {
    throw input_error("model must be a string (GET /v1/models lists them)");
  }
  r.model = body["model"];
  size_t budget = limits.max_text_bytes;
  if (kind == completion_kind::completion_kind_chat) {
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty() ||
        body["messages"].size() > limits.max_messages) {
      throw input_error("messages must be a list of 1 to " + std::to_string(limits.max_messages) +
                        " messages");
    }
    for (size_t i = 0; i < body["messages"].size(); ++i) {
      const json& m = body["messages"][i];
      const std::string where = "messages[" + std::to_string(i) + "]";
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
        throw input_error(where + ".role must be a string");
      }
      const std::string role = m["role"];
      if (role != "system" && role != "user" && role != "assistant" && role != "developer") {
        throw input_error(where + ".role must be system, developer, user or assistant");
      }
      r.messages.push_back({role == "developer" ? "system" : role,
                            content_of(m, where, limits.max_text_bytes, budget)});
    }
  } else {
    if (!body.contains("prompt") || !body["prompt"].is_string() ||
        body["prompt"].get_ref<const std::string&>().empty()) {
      throw input_error("prompt must be a non-empty string (lists of prompts are not supported)");
    }
    r.prompt = text_field(body["prompt"], "prompt", limits.max_text_bytes, budget);
  }
  r.n = int_field(body, "n", 1, 1, limits.max_n);
  const bool has_max_completion = body.contains("max_completion_tokens") &&
                                  !body["max_completion_tokens"].is_null();
  r.max_tokens = int_field(body, has_max_completion ? "max_completion_tokens" : "max_tokens",
                           r.max_tokens, 1, limits.max_tokens);
  r.temperature = float_field(body, "temperature", r.temperature, 0.0, 2.0);
  r.top_p = float_field(body, "top_p", r.top_p, 0.0, 1.0, /*open_low=*/true);
  if (body.contains("seed") && !body["seed"].is_null()) {
    if (!body["seed"].is_number_integer()) throw input_error("seed must be an integer");
    r.seed = body["seed"].is_number_unsigned() ? body["seed"].get<uint64_t>()
                                               : static_cast<uint64_t>(body["seed"].get<int64_t>());
  }
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json& stop = body["stop"];
    const json list = stop.is_string() ? json::array({stop}) : stop;
    if (!list.is_array() || list.size() > limits.max_stop) {
      throw input_error("stop must be a string or a list of up to " +
                        std::to_string(limits.max_stop) + " strings");
    }
    for (const json& s : list) {
      if (!s.is_string() || s.get_ref<const std::string&>().empty() ||
          s.get_ref<const std::string&>().size() > limits.max_stop_bytes) {
        throw input_error("each stop string must be 1 to " +
                          std::to_string(limits.max_stop_bytes) + " bytes");
      }
      r.stop.push_back(s);
    }
  }
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean()) throw input_error("stream must be true or false");
    r.stream = body["stream"];
  }
  if (body.contains("stream_options") && body["stream_options"].is_object()) {
    const json& o = body["stream_options"];
    if (o.contains("include_usage") && !o["include_usage"].is_boolean()) {
      throw input_error("stream_options.include_usage must be true or false");
    }
    r.include_usage = o.value("include_usage", false);
  }
  r.logprobs = logprobs_field(body, kind, limits.max_top_logprobs);
  // Checked last: a malformed request says what is malformed before what is unknown.
  auto pool = pool_of_model(r.model);
  if (!pool) throw input_error("model_not_found: no model \"" + r.model + "\"");
  r.pool = *pool;
  return r;
}

std::string to_queue_json(const completion_request& r) {
  json messages = json::array();
  for (const pt::chat_turn& m : r.messages) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  json out = {{"id", r.id},
              {"kind", r.kind == completion_kind::completion_kind_chat ? "chat" : "text"},
              {"model", r.model},
              {"n", r.n},
              {"max_tokens", r.max_tokens},
              {"temperature", r.temperature},
              {"top_p", r.top_p},
              {"seed", r.seed},
              {"stop", r.stop},
              {"created", r.created}};
  if (r.logprobs >= 0 && r.kind == completion_kind::completion_kind_chat) {
    out["logprobs"] = true;
    out["top_logprobs"] = r.logprobs;
  } else if (r.logprobs >= 0) {
    out["logprobs"] = r.logprobs;
  }
  if (r.kind == completion_kind::completion_kind_chat) {
    out["messages"] = messages;
  } else {
    out["prompt"] = r.prompt;
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

completion_request from_queue_json(const std::string& text, const completion_limits& limits) {
  json j = parse_bounded_json(text);
  if (j.is_discarded() || !j.is_object()) throw input_error("the request is not a JSON object");
  const std::string kind = j.value("kind", "");
  if (kind != "chat" && kind != "text") throw input_error("kind must be chat or text");
  completion_request r = parse_openai_request(
      j, kind == "chat" ? completion_kind::completion_kind_chat
                        : completion_kind::completion_kind_text,
      limits);
  if (!j.contains("id") || !j["id"].is_string() || !is_name(j["id"].get<std::string>())) {
    throw input_error("id must be 1 to 64 of [A-Za-z0-9_-]");
  }
  r.id = j["id"];
  if (j.contains("created") && j["created"].is_number_integer()) r.created = j["created"];
  return r;
}

std::vector<pt::task_msg> completion_tasks(const completion_request& r) {
  std::vector<pt::task_msg> out;
  for (int32_t i = 0; i < r.n; ++i) {
    out.push_back({.task_id = r.id + "/" + std::to_string(i),
                   .job_id = r.id,
                   .input = pt::complete_input{.prompt = r.prompt, .messages = r.messages,
                                               .stop = r.stop},
                   .sampling = {.temperature = r.temperature, .top_p = r.top_p,
                                .max_tokens = r.max_tokens, .seed = r.seed,
                                .stream = static_cast<uint64_t>(i), .logprobs = r.logprobs},
                   .pool = r.pool});
  }
  return out;
}

} // namespace proofmesh::pipeline
