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

} // namespace

std::string_view chat_format_name(chat_format format) {
  switch (format) {
  case chat_format::chat_format_deepseek_v3:
    return "deepseek_v3";
  case chat_format::chat_format_chatml:
    return "chatml";
  case chat_format::chat_format_llama3:
    return "llama3";
  }
  return "unknown";
}

std::optional<chat_format> parse_chat_format(std::string_view name) {
  for (auto f : {chat_format::chat_format_deepseek_v3, chat_format::chat_format_chatml,
                 chat_format::chat_format_llama3}) {
    if (chat_format_name(f) == name) {
      return f;
    }
  }
  return std::nullopt;
}

chat_format detect_chat_format(const std::string& model_dir, const tokenizer& tok) {
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
                    "special tokens; pass --chat-format deepseek_v3|chatml|llama3");
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
  }
  return "";
}

std::string render_chat(chat_format format, const std::vector<chat_message>& messages) {
  std::string out;
  switch (format) {
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
