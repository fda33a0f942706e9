// Port of tokenizers' models/bpe (model.rs merge_word, word.rs merge_all). The merge loop is a
// min-heap on (rank, position): popping the lowest rank, leftmost first, and skipping entries
// whose pair has changed since they were pushed. The staleness check compares only the target
// id, as tokenizers does, so even vocabularies with two merges to one token encode identically.
#include "actors/engine/tokenizer/bpe_model.hpp"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "actors/common/error.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

// One symbol of the word being merged: a doubly linked list over a vector, so merges are O(1).
struct bpe_symbol {
  int32_t id;
  int32_t prev; // index of the previous live symbol, or -1
  int32_t next; // index of the next live symbol, or -1
  size_t len;   // bytes of the piece it covers; 0 once merged into its left neighbour
};

namespace {

constexpr size_t max_merges = size_t{1} << 22;

struct merge_candidate {
  uint32_t rank;
  int32_t pos;
  int32_t new_id;
  // priority_queue keeps the greatest on top; we want the lowest rank, then the leftmost.
  bool operator<(const merge_candidate& o) const {
    return rank != o.rank ? rank > o.rank : pos > o.pos;
  }
};

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

} // namespace

bpe_model bpe_model::from_json(const json& value, std::string_view where) {
  require_object(value, where);
  if (const json* type = find_field(value, "type")) {
    if (!type->is_string()) throw_json_error(field_path(where, "type"), "must be a string");
    if (type->get<std::string>() != "BPE") {
      throw_json_error(field_path(where, "type"),
                       quote_value(type->get<std::string>()) + " is not supported");
    }
  }
  if (const json* dropout = find_field(value, "dropout")) {
    if (!dropout->is_number() || dropout->get<double>() != 0.0) {
      throw_json_error(field_path(where, "dropout"), "is not supported (only null or 0)");
    }
  }
  bpe_model m;
  m.unk_token_ = optional_string_field(value, "unk_token", where);
  m.continuing_subword_prefix_ = optional_string_field(value, "continuing_subword_prefix", where);
  m.end_of_word_suffix_ = optional_string_field(value, "end_of_word_suffix", where);
  m.fuse_unk_ = bool_field(value, "fuse_unk", where, false);
  m.byte_fallback_ = bool_field(value, "byte_fallback", where, false);
  m.ignore_merges_ = bool_field(value, "ignore_merges", where, false);
  m.parse_vocab(require_field(value, "vocab", where), field_path(where, "vocab"));
  m.parse_merges(require_field(value, "merges", where), field_path(where, "merges"));
  return m;
}

void bpe_model::parse_vocab(const json& vocab, std::string_view where) {
  require_object(vocab, where);
  if (vocab.size() > static_cast<size_t>(max_vocab_ids)) throw_json_error(where, "is too large");
  vocab_.reserve(vocab.size());
  int64_t max_id = -1;
  for (const auto& [token, id_value] : vocab.items()) {
    if (token.size() > max_token_bytes) throw_json_error(where, "has a token that is too long");
    const int64_t id = integer_value(id_value, field_path(where, quote_value(token)),
                                     max_vocab_ids - 1);
    vocab_.emplace(token, static_cast<int32_t>(id));
    max_id = std::max(max_id, id);
  }
  vocab_r_.assign(static_cast<size_t>(max_id + 1), nullptr);
  for (const auto& [token, id] : vocab_) {
    if (vocab_r_[id] != nullptr) {
      throw_json_error(where, "gives id " + std::to_string(id) + " to two tokens");
    }
    vocab_r_[id] = &token;
  }
}

void bpe_model::parse_merges(const json& merges, std::string_view where) {
  if (!merges.is_array()) throw_json_error(where, "must be an array");
  if (merges.size() > max_merges) throw_json_error(where, "has too many entries");
  merges_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& entry = merges[i];
    const std::string entry_where = index_path(where, i);
    if (entry.is_string()) {
      // The legacy "left right" form: exactly one space, as tokenizers' split(' ') demands.
      const std::string& line = entry.get_ref<const std::string&>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        throw_json_error(entry_where, "must be two tokens separated by one space");
      }
      add_merge(line.substr(0, space), line.substr(space + 1), static_cast<uint32_t>(i),
                entry_where);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
               entry[1].is_string()) {
      add_merge(entry[0].get<std::string>(), entry[1].get<std::string>(),
                static_cast<uint32_t>(i), entry_where);
    } else {
      throw_json_error(entry_where, "must be a \"a b\" string or a pair of strings");
    }
  }
}

void bpe_model::add_merge(const std::string& left, const std::string& right, uint32_t rank,
                          std::string_view where) {
  const auto left_id = token_to_id(left);
  const auto right_id = token_to_id(right);
  if (!left_id || !right_id) throw_json_error(where, "names a token that is not in the vocab");
  // The merged token drops the right side's continuing_subword_prefix, as tokenizers does.
  const size_t prefix_len = continuing_subword_prefix_ ? continuing_subword_prefix_->size() : 0;
  if (right.size() < prefix_len) throw_json_error(where, "is shorter than the subword prefix");
  const auto new_id = token_to_id(left + right.substr(prefix_len));
  if (!new_id) throw_json_error(where, "makes a token that is not in the vocab");
  // Later duplicates overwrite earlier ones, like collecting into a Rust HashMap.
  merges_.insert_or_assign(pair_key(*left_id, *right_id), merge_target{rank, *new_id});
}

std::optional<int32_t> bpe_model::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* bpe_model::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_r_.size()) return nullptr;
  return vocab_r_[id];
}

const bpe_model::merge_target* bpe_model::find_merge(int32_t left, int32_t right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void bpe_model::merge_all(std::vector<bpe_symbol>& symbols) const {
  std::priority_queue<merge_candidate> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const merge_target* m = find_merge(symbols[i].id, symbols[i + 1].id)) {
      queue.push({m->rank, static_cast<int32_t>(i), m->new_id});
    }
  }
  while (!queue.empty()) {
    const merge_candidate top = queue.top();
    queue.pop();
    bpe_symbol& current = symbols[top.pos];
    if (current.len == 0 || current.next == -1) continue;
    const bpe_symbol right = symbols[current.next];
    const merge_target* target = find_merge(current.id, right.id);
    if (target == nullptr || target->new_id != top.new_id) continue; // stale entry
    const int32_t right_pos = current.next;
    current.id = top.new_id;
    current.len += right.len;
    current.next = right.next;
    symbols[right_pos].len = 0;
    if (right.next != -1) symbols[right.next].prev = top.pos;
    if (current.prev != -1) {
      if (const merge_target* m = find_merge(symbols[current.prev].id, current.id)) {
        queue.push({m->rank, current.prev, m->new_id});
      }
    }
    if (current.next != -1) {
      if (const merge_target* m = find_merge(current.id, symbols[current.next].id)) {
        queue.push({m->rank, top.pos, m->new_id});
      }
    }
  }
}

void bpe_model::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(piece)) {
      out.push_back(*id);
      return;
    }
  }
  std::vector<bpe_symbol> symbols;
  symbols.reserve(piece.size());
  auto add_symbol = [&](int32_t id, size_t len) {
    const auto index = static_cast<int32_t>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, len});
  };
  // A pending unknown: its id and the bytes it covers (fused runs grow it). Plain fields rather
  // than an optional: GCC 12 reports a false maybe-uninitialized on the optional.
  bool has_unk = false;
  int32_t unk_id = 0;
  size_t unk_len = 0;
  auto flush_unk = [&]() {
    if (has_unk) add_symbol(unk_id, unk_len);
    has_unk = false;
  };
  std::string key;
  size_t pos = 0;
  while (pos < piece.size()) {
    const size_t len = utf8_char_len(static_cast<unsigned char>(piece[pos]));
    const bool is_first = pos == 0;
    const bool is_last = pos + len >= piece.size();
    key.clear();
    if (!is_first && continuing_subword_prefix_) key += *continuing_subword_prefix_;
    key.append(piece.substr(pos, len));
    if (is_last && end_of_word_suffix_) key += *end_of_word_suffix_;
    pos += len;

    if (const auto id = token_to_id(key)) {
      flush_unk();
      add_symbol(*id, len);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> byte_ids;
      for (char b : key) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(b));
        const auto id = token_to_id(name);
        if (!id) break;
        byte_ids.push_back(*id);
      }
      if (byte_ids.size() == key.size()) {
        // tokenizers adds these without flushing a pending unk first; keep that order.
        for (int32_t id : byte_ids) add_symbol(id, 1);
        continue;
      }
    }
    if (unk_token_) {
      if (has_unk && fuse_unk_) {
        unk_len += len;
      } else {
        flush_unk();
        const auto id = token_to_id(*unk_token_);
        if (!id) throw input_error("tokenizer.json: model.unk_token is not in the vocab");
        has_unk = true;
        unk_id = *id;
        unk_len = len;
      }
    }
  }
  flush_unk();

  merge_all(symbols);
  for (const bpe_symbol& s : symbols) {
    if (s.len != 0) out.push_back(s.id);
  }
}

} // namespace proofmesh::engine
