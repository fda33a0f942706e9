// The BPE model: vocab, ranked merges, and the merge loop that turns one pre-tokenized piece
// into ids. Loads tokenizer.json's "model" object (type BPE) with every option tokenizers has
// except dropout, which is random and so cannot give reproducible ids.
// Rules of the road: the model is immutable after from_json(), so encode() is safe from many
// threads; there is no cache (it would need a lock, and the merge loop is cheap). Limits on vocab
// size, id range, token length and merge count keep hostile files bounded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/engine/tokenizer/json_field.hpp"

namespace proofmesh::engine {

struct bpe_symbol; // one symbol of a word being merged (bpe_model.cpp)

/// Hash and equality that let unordered_map<std::string, ...> be searched by string_view.
struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

constexpr int32_t max_vocab_ids = 1 << 22;       // ids must be below this
constexpr size_t max_token_bytes = 4096;

class bpe_model {
public:
  static bpe_model from_json(const json& value, std::string_view where);
  // vocab_r_ points into vocab_'s nodes: moving keeps them valid, copying would not.
  bpe_model(bpe_model&&) = default;
  bpe_model& operator=(bpe_model&&) = default;
  bpe_model(const bpe_model&) = delete;
  bpe_model& operator=(const bpe_model&) = delete;

  /// Appends the ids of one piece (non-empty, valid UTF-8); throws input_error when the piece
  /// needs unk_token and the vocab lacks it.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  const std::string* id_to_token(int32_t id) const;
  /// Number of vocab entries (tokenizers' get_vocab_size, used to number added tokens).
  size_t num_entries() const { return vocab_.size(); }
  /// Highest vocab id + 1 (0 for an empty vocab).
  int32_t id_limit() const { return static_cast<int32_t>(vocab_r_.size()); }

private:
  struct merge_target {
    uint32_t rank;  // position in the merges list; lower merges first
    int32_t new_id; // id of the merged token
  };

  bpe_model() = default;
  void parse_vocab(const json& vocab, std::string_view where);
  void parse_merges(const json& merges, std::string_view where);
  void add_merge(const std::string& left, const std::string& right, uint32_t rank,
                 std::string_view where);
  const merge_target* find_merge(int32_t left, int32_t right) const;
  void merge_all(std::vector<bpe_symbol>& symbols) const;

  std::unordered_map<std::string, int32_t, string_hash, std::equal_to<>> vocab_;
  std::vector<const std::string*> vocab_r_; // id -> token (points into vocab_), or nullptr
  std::unordered_map<uint64_t, merge_target> merges_; // (left id << 32 | right id) -> target
  std::optional<std::string> unk_token_;
  std::optional<std::string> continuing_subword_prefix_;
  std::optional<std::string> end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
};

} // namespace proofmesh::engine
