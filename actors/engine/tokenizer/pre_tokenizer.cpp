// Each step maps the current list of pieces to a new list, as PreTokenizedString::split does.
#include "actors/engine/tokenizer/pre_tokenizer.hpp"

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/byte_level.hpp"
#include "actors/engine/tokenizer/char_class.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

constexpr int max_nesting = 16;
constexpr size_t max_steps = 64;

// The regex the ByteLevel pre-tokenizer uses when use_regex is true (GPT-2's).
constexpr std::string_view gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const regex& gpt2_regex() {
  static const regex re = regex::compile(gpt2_pattern, false);
  return re;
}

// Digits: every numeric char is its own match; the rest of the text forms the gaps.
std::vector<regex_piece> digit_pieces(std::string_view text) {
  std::vector<regex_piece> pieces;
  size_t last = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const utf8_step step = next_utf8(text, pos);
    if (is_numeric_char(step.code)) {
      if (last < pos) pieces.push_back({last, pos, false});
      pieces.push_back({pos, pos + step.len, true});
      last = pos + step.len;
    }
    pos += step.len;
  }
  if (last < text.size()) pieces.push_back({last, text.size(), false});
  return pieces;
}

void append_ranges(std::string_view text, const std::vector<std::pair<size_t, size_t>>& ranges,
                   std::vector<std::string>& out) {
  for (const auto& [begin, end] : ranges) {
    if (end > begin) out.emplace_back(text.substr(begin, end - begin));
  }
}

void run_step(const pre_tokenizer_step& step, std::string_view piece,
              std::vector<std::string>& out) {
  switch (step.kind) {
  case pre_tokenizer_kind::pre_split: {
    std::vector<regex_piece> pieces = step.pattern->find_pieces(piece);
    if (step.invert) {
      for (regex_piece& p : pieces) p.is_match = !p.is_match;
    }
    append_ranges(piece, apply_split_behavior(std::move(pieces), step.behavior), out);
    return;
  }
  case pre_tokenizer_kind::pre_byte_level: {
    std::string text(piece);
    if (step.add_prefix_space && text.front() != ' ') text.insert(text.begin(), ' ');
    if (!step.pattern) {
      out.push_back(bytes_to_byte_level(text));
      return;
    }
    for (const regex_piece& p : step.pattern->find_pieces(text)) {
      if (p.end > p.begin) {
        out.push_back(bytes_to_byte_level(std::string_view(text).substr(p.begin, p.end - p.begin)));
      }
    }
    return;
  }
  case pre_tokenizer_kind::pre_digits: {
    const split_behavior behavior = step.individual_digits ? split_behavior::split_isolated
                                                           : split_behavior::split_contiguous;
    append_ranges(piece, apply_split_behavior(digit_pieces(piece), behavior), out);
    return;
  }
  }
}

} // namespace

pre_tokenizer pre_tokenizer::from_json(const json& value, std::string_view where) {
  pre_tokenizer p;
  if (!value.is_null()) p.parse(value, where, 0);
  return p;
}

void pre_tokenizer::parse(const json& value, std::string_view where, int depth) {
  if (depth > max_nesting) throw_json_error(where, "nests too deeply");
  if (steps_.size() >= max_steps) throw_json_error(where, "has too many steps");
  const std::string type = type_field(value, where);
  pre_tokenizer_step step{};
  if (type == "Sequence") {
    const json& list = require_field(value, "pretokenizers", where);
    const std::string list_where = field_path(where, "pretokenizers");
    if (!list.is_array()) throw_json_error(list_where, "must be an array");
    for (size_t i = 0; i < list.size(); ++i) parse(list[i], index_path(list_where, i), depth + 1);
    return;
  }
  if (type == "Split") {
    step.kind = pre_tokenizer_kind::pre_split;
    const json& pattern = require_field(value, "pattern", where);
    const std::string pattern_where = field_path(where, "pattern");
    require_object(pattern, pattern_where);
    const bool has_regex = find_field(pattern, "Regex") != nullptr;
    const bool has_string = find_field(pattern, "String") != nullptr;
    if (has_regex == has_string) throw_json_error(pattern_where, "must hold one of Regex, String");
    const std::string source =
        string_field(pattern, has_regex ? "Regex" : "String", pattern_where);
    try {
      step.pattern = regex::compile(source, !has_regex);
    } catch (const input_error& e) {
      throw_json_error(pattern_where, e.what());
    }
    const std::string behavior = string_field(value, "behavior", where);
    if (!parse_split_behavior(behavior, step.behavior)) {
      throw_json_error(field_path(where, "behavior"), quote_value(behavior) + " is not supported");
    }
    step.invert = bool_field(value, "invert", where, false);
  } else if (type == "ByteLevel") {
    // tokenizers' ByteLevel defaults: add_prefix_space, trim_offsets and use_regex all true.
    step.kind = pre_tokenizer_kind::pre_byte_level;
    step.add_prefix_space = bool_field(value, "add_prefix_space", where, true);
    bool_field(value, "trim_offsets", where, true); // offsets only; checked for type
    if (bool_field(value, "use_regex", where, true)) step.pattern = gpt2_regex();
  } else if (type == "Digits") {
    step.kind = pre_tokenizer_kind::pre_digits;
    step.individual_digits = bool_field(value, "individual_digits", where, false);
  } else {
    throw_json_error(field_path(where, "type"), quote_value(type) + " is not supported");
  }
  steps_.push_back(std::move(step));
}

void pre_tokenizer::pre_tokenize(std::string_view text, std::vector<std::string>& out) const {
  if (text.empty()) return;
  if (steps_.empty()) {
    out.emplace_back(text);
    return;
  }
  std::vector<std::string> current{std::string(text)};
  std::vector<std::string> next;
  for (const pre_tokenizer_step& step : steps_) {
    next.clear();
    for (const std::string& piece : current) run_step(step, piece, next);
    current.swap(next);
  }
  for (std::string& piece : current) out.push_back(std::move(piece));
}

} // namespace proofmesh::engine
