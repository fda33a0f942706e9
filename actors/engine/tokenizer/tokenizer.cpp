// Loading wires the components in tokenizer.json's order of use; encode() follows tokenizers'
// pipeline: split out raw added tokens -> normalize -> split out normalized added tokens ->
// pre-tokenize -> BPE -> post-process.
#include "actors/engine/tokenizer/tokenizer.hpp"

#include <filesystem>

#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/engine/tokenizer/added_vocabulary.hpp"
#include "actors/engine/tokenizer/bpe_model.hpp"
#include "actors/engine/tokenizer/decoder.hpp"
#include "actors/engine/tokenizer/normalizer.hpp"
#include "actors/engine/tokenizer/post_processor.hpp"
#include "actors/engine/tokenizer/pre_tokenizer.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

constexpr size_t max_json_bytes = size_t{64} << 20;
constexpr int max_json_depth = 64;

// nlohmann parses iteratively, but rejecting absurd nesting up front keeps every later walk
// (ours and the library's) shallow and cheap.
void check_nesting(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth) throw input_error("tokenizer.json: nests too deeply");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

const json& field_or_null(const json& obj, std::string_view key) {
  static const json null_value;
  const json* value = find_field(obj, key);
  return value != nullptr ? *value : null_value;
}

} // namespace

struct tokenizer::state {
  normalizer norm;
  pre_tokenizer pre;
  bpe_model model;
  added_vocabulary added;
  post_processor post;
  decoder dec;
};

tokenizer tokenizer::from_json(std::string_view json_text) {
  if (json_text.size() > max_json_bytes) throw input_error("tokenizer.json: larger than 64 MiB");
  check_nesting(json_text);
  try {
    json root;
    try {
      root = json::parse(json_text);
    } catch (const json::parse_error& e) {
      throw input_error("tokenizer.json: not valid JSON at byte " + std::to_string(e.byte));
    }
    require_object(root, "top level");
    if (const json* version = find_field(root, "version")) {
      if (!version->is_string() || version->get<std::string>() != "1.0") {
        throw_json_error("version", "must be \"1.0\"");
      }
    }
    for (const char* unsupported : {"truncation", "padding"}) {
      if (find_field(root, unsupported) != nullptr) throw_json_error(unsupported, "must be null");
    }
    normalizer norm = normalizer::from_json(field_or_null(root, "normalizer"), "normalizer");
    pre_tokenizer pre =
        pre_tokenizer::from_json(field_or_null(root, "pre_tokenizer"), "pre_tokenizer");
    bpe_model model = bpe_model::from_json(require_field(root, "model", "top level"), "model");
    added_vocabulary added = added_vocabulary::from_json(field_or_null(root, "added_tokens"),
                                                         "added_tokens", model, norm);
    post_processor post =
        post_processor::from_json(field_or_null(root, "post_processor"), "post_processor");
    decoder dec = decoder::from_json(field_or_null(root, "decoder"), "decoder");
    return tokenizer(std::make_shared<const state>(state{std::move(norm), std::move(pre),
                                                         std::move(model), std::move(added),
                                                         std::move(post), std::move(dec)}));
  } catch (const json::exception& e) {
    // Every read is type-checked first; this is a backstop so no library error escapes.
    throw input_error(std::string("tokenizer.json: ") + e.what());
  }
}

tokenizer tokenizer::from_file(const std::string& path) {
  return from_json(read_text_file(path, max_json_bytes));
}

std::vector<int32_t> tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (const auto bad = find_invalid_utf8(text)) {
    throw input_error("input is not valid UTF-8 at byte " + std::to_string(*bad));
  }
  const state& s = *state_;
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
  for (const added_split& raw : s.added.split(text, false)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    if (raw.end == raw.begin) continue;
    const std::string normalized = s.norm.normalize(text.substr(raw.begin, raw.end - raw.begin));
    for (const added_split& part : s.added.split(normalized, true)) {
      if (part.id >= 0) {
        ids.push_back(part.id);
        continue;
      }
      if (part.end == part.begin) continue;
      pieces.clear();
      s.pre.pre_tokenize(std::string_view(normalized).substr(part.begin, part.end - part.begin),
                         pieces);
      for (const std::string& piece : pieces) s.model.encode(piece, ids);
    }
  }
  if (add_special_tokens) s.post.apply(ids);
  return ids;
}

std::string tokenizer::token_bytes(int32_t id, bool skip_special_tokens) const {
  const state& s = *state_;
  std::string out;
  if (const added_token* added = s.added.find_by_id(id)) {
    if (!(skip_special_tokens && added->special)) s.dec.append_bytes(out, added->content);
  } else if (const std::string* token = s.model.id_to_token(id)) {
    s.dec.append_bytes(out, *token);
  }
  return out;
}

std::string tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) bytes += token_bytes(id, skip_special_tokens);
  return to_utf8_lossy(bytes);
}

std::optional<int32_t> tokenizer::token_to_id(std::string_view content) const {
  if (const auto id = state_->added.find_by_content(content)) return id;
  return state_->model.token_to_id(content);
}

std::optional<std::string> tokenizer::id_to_token(int32_t id) const {
  if (const added_token* added = state_->added.find_by_id(id)) return added->content;
  if (const std::string* token = state_->model.id_to_token(id)) return *token;
  return std::nullopt;
}

int32_t tokenizer::vocab_size() const {
  return std::max(state_->model.id_limit(), state_->added.id_limit());
}

bool tokenizer::is_special(int32_t id) const {
  const added_token* added = state_->added.find_by_id(id);
  return added != nullptr && added->special;
}

std::vector<std::string> tokenizer::special_tokens() const {
  std::vector<std::string> out;
  for (const added_token& t : state_->added.tokens()) {
    if (t.special) out.push_back(t.content);
  }
  return out;
}

} // namespace proofmesh::engine
