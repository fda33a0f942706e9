// Port of tokenizers' AddedVocabulary: id assignment in add_tokens() and find_matches().
#include "actors/engine/tokenizer/added_vocabulary.hpp"

#include <algorithm>

#include "actors/engine/tokenizer/char_class.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace proofmesh::engine {

namespace {

constexpr size_t max_added_tokens = size_t{1} << 20;

// The char that ends just before pos (pos > 0, text valid UTF-8) and where it starts.
std::pair<size_t, char32_t> char_before(std::string_view text, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return {start, next_utf8(text, start).code};
}

// Where the run of whitespace that ends at pos begins (tokenizers' `\s*$` on text[..pos]).
size_t whitespace_run_start(std::string_view text, size_t pos) {
  while (pos > 0) {
    const auto [start, code] = char_before(text, pos);
    if (!is_whitespace_char(code)) break;
    pos = start;
  }
  return pos;
}

// Where the run of whitespace that starts at pos ends (tokenizers' `^\s*` on text[pos..]).
size_t whitespace_run_end(std::string_view text, size_t pos) {
  while (pos < text.size()) {
    const utf8_step step = next_utf8(text, pos);
    if (!is_whitespace_char(step.code)) break;
    pos += step.len;
  }
  return pos;
}

} // namespace

void added_vocabulary::trie::insert(std::string_view key, int32_t token_index) {
  if (token_at.empty()) token_at.push_back(-1);
  int32_t node = 0;
  for (char ch : key) {
    const uint64_t edge = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(ch);
    const auto [it, inserted] = edges.try_emplace(edge, static_cast<int32_t>(token_at.size()));
    if (inserted) token_at.push_back(-1);
    node = it->second;
  }
  if (token_at[node] < 0) token_at[node] = token_index; // the first pattern wins a tie
}

std::optional<std::pair<size_t, int32_t>>
added_vocabulary::trie::longest_at(std::string_view text, size_t pos) const {
  std::optional<std::pair<size_t, int32_t>> best;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const uint64_t edge = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
    const auto it = edges.find(edge);
    if (it == edges.end()) break;
    node = it->second;
    if (token_at[node] >= 0) best = std::make_pair(i + 1 - pos, token_at[node]);
  }
  return best;
}

added_vocabulary added_vocabulary::from_json(const json& value, std::string_view where,
                                             const bpe_model& model, const normalizer& norm) {
  added_vocabulary v;
  if (value.is_null()) return v;
  if (!value.is_array()) throw_json_error(where, "must be an array");
  if (value.size() > max_added_tokens) throw_json_error(where, "has too many entries");
  const auto num_entries = static_cast<int64_t>(model.num_entries());
  int64_t max_added_id = -1;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& entry = value[i];
    const std::string entry_where = index_path(where, i);
    require_object(entry, entry_where);
    added_token t;
    t.id = static_cast<int32_t>(
        integer_value(require_field(entry, "id", entry_where), field_path(entry_where, "id"),
                      max_vocab_ids - 1));
    t.content = string_field(entry, "content", entry_where);
    if (t.content.size() > max_token_bytes) throw_json_error(entry_where, "content is too long");
    t.single_word = bool_field(entry, "single_word", entry_where, false);
    t.lstrip = bool_field(entry, "lstrip", entry_where, false);
    t.rstrip = bool_field(entry, "rstrip", entry_where, false);
    t.special = bool_field(entry, "special", entry_where, false);
    t.normalized = bool_field(entry, "normalized", entry_where, !t.special);
    if (t.content.empty()) continue; // tokenizers ignores empty added tokens
    if (v.by_content_.count(t.content) != 0) {
      throw_json_error(entry_where, "repeats the content of an earlier added token");
    }
    // The id tokenizers gives it on load: the vocab's id if the model has the content, else the
    // next free id after the model's entries and the added tokens so far.
    int64_t expected = 0;
    if (const auto vocab_id = model.token_to_id(t.content)) {
      expected = *vocab_id;
    } else if (max_added_id < 0) {
      expected = num_entries;
    } else {
      expected = (max_added_id >= num_entries || num_entries == 0) ? max_added_id + 1
                                                                   : num_entries;
    }
    // A sparse vocab can own that id already; tokenizers would then shadow the vocab token.
    if (expected >= max_vocab_ids) throw_json_error(entry_where, "needs an id out of range");
    if (!model.token_to_id(t.content) && model.id_to_token(static_cast<int32_t>(expected))) {
      throw_json_error(entry_where, "would be given the id of a vocab token");
    }
    if (t.id != expected) {
      throw_json_error(field_path(entry_where, "id"),
                       "is " + std::to_string(t.id) + " but tokenizers assigns " +
                           std::to_string(expected));
    }
    max_added_id = std::max(max_added_id, expected);
    v.by_content_.emplace(t.content, v.tokens_.size());
    v.by_id_.emplace(t.id, v.tokens_.size());
    v.id_limit_ = std::max(v.id_limit_, t.id + 1);
    v.tokens_.push_back(std::move(t));
  }
  v.build_tries(norm);
  return v;
}

void added_vocabulary::build_tries(const normalizer& norm) {
  // tokenizers orders patterns special tokens first, then the others, each in file order.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      const added_token& t = tokens_[i];
      if (t.special != (pass == 0)) continue;
      if (t.normalized) {
        const std::string content = norm.normalize(t.content);
        if (!content.empty()) normalized_trie_.insert(content, static_cast<int32_t>(i));
      } else {
        raw_trie_.insert(t.content, static_cast<int32_t>(i));
      }
    }
  }
}

std::vector<added_split> added_vocabulary::split(std::string_view text, bool normalized) const {
  const trie& t = normalized ? normalized_trie_ : raw_trie_;
  std::vector<added_split> out;
  size_t start_offset = 0;
  size_t pos = 0;
  while (!t.edges.empty() && pos < text.size()) {
    const auto found = t.longest_at(text, pos);
    if (!found) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t stop = pos + found->first;
    pos = stop; // the automaton resumes after the match, even one rejected below
    const added_token& token = tokens_[found->second];
    if (token.single_word) {
      const bool start_space = start == 0 || !is_word_char(char_before(text, start).second);
      const bool stop_space = stop == text.size() || !is_word_char(next_utf8(text, stop).code);
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) start = std::max(whitespace_run_start(text, start), start_offset);
    if (token.rstrip) stop = whitespace_run_end(text, stop);
    // tokenizers panics on this overlap (a token inside an earlier rstrip); we drop the match.
    if (start > stop) continue;
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, token.id});
    start_offset = stop;
  }
  if (start_offset != text.size()) out.push_back({start_offset, text.size(), -1});
  return out;
}

const added_token* added_vocabulary::find_by_id(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> added_vocabulary::find_by_content(std::string_view content) const {
  const auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

} // namespace proofmesh::engine
