// A Hugging Face tokenizer.json loaded for encoding and decoding, giving the same ids as the
// Rust `tokenizers` library for byte-level BPE tokenizers (Qwen2, Llama 3, DeepSeek-V3).
// Rules of the road: loading checks everything and throws input_error for any bad or unsupported
// content, naming the field; after that a tokenizer is immutable, so every method is safe to call
// from many threads, and copies are cheap (they share the loaded state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine {

class tokenizer {
public:
  /// Reads and loads a tokenizer.json; throws input_error (missing file, over 64 MiB, bad JSON,
  /// unsupported component).
  static tokenizer from_file(const std::string& path);
  /// Loads tokenizer.json text; throws input_error. Safe on hostile input (it is fuzzed).
  static tokenizer from_json(std::string_view json_text);

  /// Encodes text (must be valid UTF-8, else input_error). add_special_tokens runs the
  /// post-processor (e.g. Llama 3's template that prepends <|begin_of_text|>), as HF's encode()
  /// does by default.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  /// Like HF's decode(): unknown ids are dropped, invalid UTF-8 becomes U+FFFD.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  /// Added token or vocab entry with exactly this content.
  std::optional<int32_t> token_to_id(std::string_view content) const;
  /// The raw token string (byte-level chars for vocab tokens).
  std::optional<std::string> id_to_token(int32_t id) const;
  /// Highest id over the vocab and the added tokens, plus one.
  int32_t vocab_size() const;
  /// Whether id is an added token marked special.
  bool is_special(int32_t id) const;
  /// Contents of the added tokens marked special, in file order.
  std::vector<std::string> special_tokens() const;

  /// The bytes id contributes to decode()'s output before UTF-8 repair (empty for unknown ids,
  /// and for special tokens when skip_special_tokens). decode() is to_utf8_lossy of their
  /// concatenation; the streaming detokenizer is built on this.
  std::string token_bytes(int32_t id, bool skip_special_tokens) const;

private:
  struct state;
  explicit tokenizer(std::shared_ptr<const state> s) : state_(std::move(s)) {}

  std::shared_ptr<const state> state_;
};

} // namespace proofmesh::engine
