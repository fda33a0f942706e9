#include "actors/engine/chat/chat_format.hpp"

#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace proofmesh::engine {

namespace {

// Each family's marker: a token only its template uses.
struct family_marker {
  chat_format format;
  std::string_view marker;
};

constexpr family_marker markers[] = {
    // Before deepseek_v3, whose marker it shares: V3.2's template closes the user turn with
    // <think> or </think>.
    {chat_format::chat_format_deepseek_v32, "<｜Assistant｜></think>"},
    {chat_format::chat_format_deepseek_v3, "<｜User｜>"},
    {chat_format::chat_format_chatml, "<|im_start|>"},
    {chat_format::chat_format_llama3, "<|start_header_id|>"},
};

std::optional<chat_format> from_template_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(read_text_file(path.string(), 16u << 20), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("chat_template") ||
      !j["chat_template"].is_string()) {
    return std::nullopt;
  }
  std::string tmpl = j["chat_template"].get<std::string>();
  for (const auto& m : markers) {
    if (tmpl.find(m.marker) != std::string::npos) {
      return m.format;
    }
  }
  return std::nullopt;
}

// DeepSeek-V3.2 ships its chat format as encoding_dsv32.py, not as a chat_template.
bool is_deepseek_v32(const std::filesystem::path& config_path) {
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec)) {
    return false;
  }
  auto j = nlohmann::json::parse(read_text_file(config_path.string(), 1u << 20), nullptr, false);
  return j.is_object() && j.contains("model_type") && j["model_type"] == "deepseek_v32";
}

} // namespace

std::string_view chat_format_name(chat_format format) {
  switch (format) {
  case chat_format::chat_format_deepseek_v3:
    return "deepseek_v3";
  case chat_format::chat_format_chatml:
    return "chatml";
  case chat_format::chat_format_llama3:
    return "llama3";
  case chat_format::chat_format_deepseek_v32:
    return "deepseek_v32";
  }
  return "unknown";
}

std::optional<chat_format> parse_chat_format(std::string_view name) {
  for (auto f : {chat_format::chat_format_deepseek_v3, chat_format::chat_format_chatml,
                 chat_format::chat_format_llama3, chat_format::chat_format_deepseek_v32}) {
    if (chat_format_name(f) == name) {
      return f;
    }
  }
  return std::nullopt;
}

chat_format detect_chat_format(const std::string& model_dir, const tokenizer& tok) {
  if (is_deepseek_v32(std::filesystem::path(model_dir) / "config.json")) {
    return chat_format::chat_format_deepseek_v32;
  }
  if (auto f = from_template_file(std::filesystem::path(model_dir) / "tokenizer_config.json")) {
    return *f;
  }
  for (const auto& m : markers) {
    if (tok.token_to_id(m.marker)) {
      return m.format;
    }
  }
  throw input_error(model_dir +
                    ": cannot tell the chat format from tokenizer_config.json or the tokenizer's "
                    "special tokens; pass --chat-format deepseek_v3|deepseek_v32|chatml|llama3");
}

std::string chat_template_jinja(chat_format format) {
  switch (format) {
  case chat_format::chat_format_deepseek_v3:
    return "{{ '<｜begin▁of▁sentence｜>' }}{% for message in messages %}"
           "{% if message['role'] == 'system' %}{{ message['content'] }}"
           "{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
           "{% else %}{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}"
           "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}";
  case chat_format::chat_format_chatml:
    return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
           "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
           "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  case chat_format::chat_format_llama3:
    return "{{ '<|begin_of_text|>' }}{% for message in messages %}{{ '<|start_header_id|>' + "
           "message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}"
           "{% endfor %}{% if add_generation_prompt %}"
           "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
  case chat_format::chat_format_deepseek_v32:
    // encoding_dsv32.py's rendering of system, user and assistant turns; `thinking` is the
    // keyword apply_chat_template passes through.
    return "{{ '<｜begin▁of▁sentence｜>' }}{% set last = namespace(i=-1) %}"
           "{% for m in messages %}{% if m['role'] == 'user' %}{% set last.i = loop.index0 %}"
           "{% endif %}{% endfor %}{% for message in messages %}"
           "{% if message['role'] == 'system' %}{{ message['content'] }}"
           "{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] + "
           "'<｜Assistant｜>' }}{% if loop.index0 == last.i and thinking %}{{ '<think>' }}"
           "{% else %}{{ '</think>' }}{% endif %}"
           "{% else %}{{ message['content'] + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}";
  }
  return "";
}

std::string render_chat(chat_format format, const std::vector<chat_message>& messages,
                        bool thinking) {
  std::string out;
  switch (format) {
  case chat_format::chat_format_deepseek_v32: {
    // encoding_dsv32.py: the user turn carries the Assistant tag; only the last user turn may
    // open a thought, and earlier replies are rendered without theirs (drop_thinking).
    out = "<｜begin▁of▁sentence｜>";
    size_t last_user = messages.size();
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].role == "user") {
        last_user = i;
      }
    }
    for (size_t i = 0; i < messages.size(); ++i) {
      const chat_message& m = messages[i];
      if (m.role == "system") {
        out += m.content;
      } else if (m.role == "user") {
        out += "<｜User｜>" + m.content + "<｜Assistant｜>";
        out += i == last_user && thinking ? "<think>" : "</think>";
      } else {
        out += m.content + "<｜end▁of▁sentence｜>";
      }
    }
    break;
  }
  case chat_format::chat_format_deepseek_v3: {
    // DeepSeek-V3: BOS, the system prompt bare, then <｜User｜>/<｜Assistant｜> turns.
    out = "<｜begin▁of▁sentence｜>";
    for (const auto& m : messages) {
      if (m.role == "system") {
        out += m.content;
      } else if (m.role == "user") {
        out += "<｜User｜>" + m.content;
      } else {
        out += "<｜Assistant｜>" + m.content + "<｜end▁of▁sentence｜>";
      }
    }
    out += "<｜Assistant｜>";
    break;
  }
  case chat_format::chat_format_chatml:
    for (const auto& m : messages) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    }
    out += "<|im_start|>assistant\n";
    break;
  case chat_format::chat_format_llama3:
    out = "<|begin_of_text|>";
    for (const auto& m : messages) {
      out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
    }
    out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    break;
  }
  return out;
}

} // namespace proofmesh::engine
