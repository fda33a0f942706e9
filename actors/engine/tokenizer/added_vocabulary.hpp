// Added tokens: strings (mostly special tokens like <|begin_of_text|>) that are cut out of the
// input before normalization and BPE and map straight to their ids.
// Rules of the road: matching is tokenizers' (aho-corasick, leftmost-longest, non-overlapping,
// then single_word/lstrip/rstrip), run twice: tokens with normalized=false on the raw text, the
// others (with their content normalized) on each normalized piece. Ids must equal the ones
// tokenizers would assign on load, or the file is rejected: tokenizers ignores the JSON ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/engine/tokenizer/bpe_model.hpp"
#include "actors/engine/tokenizer/json_field.hpp"
#include "actors/engine/tokenizer/normalizer.hpp"

namespace proofmesh::engine {

struct added_token {
  int32_t id;
  std::string content;
  bool single_word;
  bool lstrip;
  bool rstrip;
  bool normalized;
  bool special;
};

/// A piece of text after splitting on added tokens: either an added token's id or plain text.
struct added_split {
  size_t begin;
  size_t end;
  int32_t id; // -1 for plain text
};

class added_vocabulary {
public:
  added_vocabulary() = default;
  static added_vocabulary from_json(const json& value, std::string_view where,
                                    const bpe_model& model, const normalizer& norm);

  /// Splits text on the tokens with normalized == false (for raw text) or true (for normalized
  /// text). The splits cover text in order; plain pieces may be empty.
  std::vector<added_split> split(std::string_view text, bool normalized) const;

  const added_token* find_by_id(int32_t id) const;
  std::optional<int32_t> find_by_content(std::string_view content) const;
  const std::vector<added_token>& tokens() const { return tokens_; }
  /// Highest added id + 1 (0 when there are none).
  int32_t id_limit() const { return id_limit_; }

private:
  // A byte trie for leftmost-longest matching; node 0 is the root.
  struct trie {
    std::unordered_map<uint64_t, int32_t> edges; // (node << 8 | byte) -> child node
    std::vector<int32_t> token_at;               // node -> index into tokens_, or -1
    void insert(std::string_view key, int32_t token_index);
    // Length and token of the longest key that starts at pos, if any.
    std::optional<std::pair<size_t, int32_t>> longest_at(std::string_view text, size_t pos) const;
  };

  void build_tries(const normalizer& norm);

  std::vector<added_token> tokens_; // in file order
  std::unordered_map<std::string, size_t, string_hash, std::equal_to<>> by_content_;
  std::unordered_map<int32_t, size_t> by_id_;
  trie raw_trie_;
  trie normalized_trie_;
  int32_t id_limit_ = 0;
};

} // namespace proofmesh::engine
