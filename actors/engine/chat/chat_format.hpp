// Built-in chat formats: how a conversation becomes the prompt text a model was trained on.
// Rules of the road: we do not run Jinja. We recognise the families we serve from the model's own
// files (config.json's model_type for DeepSeek-V3.2, which ships its format as Python rather than
// a chat_template; else tokenizer_config.json's chat_template; else the tokenizer's special
// tokens), and render them ourselves; users can override the guess with --chat-format.
// DeepSeek-V3.2 (encoding_dsv32.py) closes the last user turn with <think> when thinking is on and
// </think> when it is off, its default. DeepSeekMath-V2 is a reasoning model: its role prompts
// render with thinking on, so the output is reasoning, </think>, then the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

class tokenizer;

enum class chat_format : uint8_t {
  chat_format_deepseek_v3,
  chat_format_chatml,
  chat_format_llama3,
  chat_format_deepseek_v32,
};

/// "deepseek_v3", "chatml", "llama3", "deepseek_v32".
std::string_view chat_format_name(chat_format format);
std::optional<chat_format> parse_chat_format(std::string_view name);

struct chat_message {
  std::string role; // "system", "user" or "assistant"
  std::string content;
};

/// Picks the format from DIR/tokenizer_config.json's chat_template, else from the tokenizer's
/// special tokens. Throws input_error when neither names a known family.
chat_format detect_chat_format(const std::string& model_dir, const tokenizer& tok);

/// A Jinja chat_template equivalent to render_chat, for tokenizer_config.json files we write, so
/// that transformers' apply_chat_template renders the same text.
std::string chat_template_jinja(chat_format format);

/// The prompt text for `messages`, ending with the assistant's generation prompt. `thinking` opens
/// the reply with <think> in the formats that have a thinking switch (deepseek_v32); the others
/// ignore it.
std::string render_chat(chat_format format, const std::vector<chat_message>& messages,
                        bool thinking = false);

} // namespace proofmesh::engine
