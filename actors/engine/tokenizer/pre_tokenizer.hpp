// The pre-tokenizer stage: cuts normalized text into pieces that BPE encodes independently.
// Supported steps: Split (regex or literal, all five behaviours, invert), ByteLevel (optional
// GPT-2 regex split, then the bytes_to_unicode transform), Digits, and Sequence of those.
// Rules of the road: pieces are never empty (tokenizers drops empty splits after every step);
// steps are a flat list run in order, dispatched by a switch, not virtual calls.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/tokenizer/json_field.hpp"
#include "actors/engine/tokenizer/regex.hpp"
#include "actors/engine/tokenizer/split_behavior.hpp"

namespace proofmesh::engine {

enum class pre_tokenizer_kind { pre_split, pre_byte_level, pre_digits };

struct pre_tokenizer_step {
  pre_tokenizer_kind kind;
  std::optional<regex> pattern;  // pre_split; pre_byte_level when use_regex
  split_behavior behavior = split_behavior::split_isolated; // pre_split
  bool invert = false;           // pre_split
  bool add_prefix_space = false; // pre_byte_level
  bool individual_digits = false; // pre_digits
};

class pre_tokenizer {
public:
  pre_tokenizer() = default; // no pre-tokenizer: the whole text is one piece
  static pre_tokenizer from_json(const json& value, std::string_view where);

  /// Cuts text (valid UTF-8) into non-empty pieces, appended to out.
  void pre_tokenize(std::string_view text, std::vector<std::string>& out) const;

private:
  void parse(const json& value, std::string_view where, int depth);

  std::vector<pre_tokenizer_step> steps_;
};

} // namespace proofmesh::engine
