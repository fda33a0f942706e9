// See bpe_trainer.hpp. The heap holds possibly stale (count, pair) entries; an entry is used only
// if its count still matches, and every count change pushes a fresh entry.
#include "actors/engine/tokenizer/bpe_trainer.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "actors/engine/tokenizer/byte_level.hpp"

namespace proofmesh::engine {

namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct candidate {
  int64_t count;
  int32_t left;
  int32_t right;
};

} // namespace

bpe_training_result train_bpe(std::vector<bpe_training_word> words, int32_t vocab_size) {
  bpe_training_result result;
  for (int b = 0; b < 256; ++b) {
    result.tokens.emplace_back(byte_to_chars(static_cast<unsigned char>(b)));
  }
  std::unordered_set<std::string> existing(result.tokens.begin(), result.tokens.end());
  const std::vector<std::string>& tokens = result.tokens;

  // Lower priority = fewer occurrences, then the lexicographically larger pair of strings.
  auto lower = [&tokens](const candidate& x, const candidate& y) {
    if (x.count != y.count) return x.count < y.count;
    if (tokens[x.left] != tokens[y.left]) return tokens[x.left] > tokens[y.left];
    return tokens[x.right] > tokens[y.right];
  };
  std::priority_queue<candidate, std::vector<candidate>, decltype(lower)> heap(lower);

  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words; // may hold stale words
  auto push = [&heap](uint64_t key, int64_t count) {
    heap.push({count, static_cast<int32_t>(key >> 32), static_cast<int32_t>(key & 0xFFFFFFFF)});
  };
  for (size_t w = 0; w < words.size(); ++w) {
    const std::vector<int32_t>& s = words[w].symbols;
    const auto index = static_cast<int32_t>(w);
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t key = pair_key(s[i], s[i + 1]);
      pair_counts[key] += words[w].count;
      std::vector<int32_t>& list = pair_words[key];
      if (list.empty() || list.back() != index) list.push_back(index);
    }
  }
  for (const auto& [key, count] : pair_counts) push(key, count);

  std::unordered_set<uint64_t> banned; // pairs whose merged string already exists
  std::vector<uint64_t> changed;
  while (static_cast<int32_t>(result.tokens.size()) < vocab_size && !heap.empty()) {
    const candidate top = heap.top();
    heap.pop();
    const uint64_t key = pair_key(top.left, top.right);
    const auto count_it = pair_counts.find(key);
    if (count_it == pair_counts.end() || count_it->second != top.count) continue; // stale
    if (top.count < 2) break;
    if (banned.count(key) != 0) continue;
    std::string merged = tokens[top.left] + tokens[top.right];
    if (!existing.insert(merged).second) {
      banned.insert(key);
      continue;
    }
    const auto new_id = static_cast<int32_t>(result.tokens.size());
    result.tokens.push_back(std::move(merged));
    result.merges.emplace_back(top.left, top.right);

    std::vector<int32_t> affected = std::move(pair_words[key]);
    pair_words.erase(key);
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
    changed.clear();
    for (int32_t w : affected) {
      std::vector<int32_t>& s = words[w].symbols;
      const int64_t count = words[w].count;
      bool holds_pair = false;
      for (size_t i = 0; i + 1 < s.size() && !holds_pair; ++i) {
        holds_pair = s[i] == top.left && s[i + 1] == top.right;
      }
      if (!holds_pair) continue;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t k = pair_key(s[i], s[i + 1]);
        pair_counts[k] -= count;
        changed.push_back(k);
      }
      std::vector<int32_t> merged_symbols;
      merged_symbols.reserve(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == top.left && s[i + 1] == top.right) {
          merged_symbols.push_back(new_id);
          ++i;
        } else {
          merged_symbols.push_back(s[i]);
        }
      }
      s = std::move(merged_symbols);
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t k = pair_key(s[i], s[i + 1]);
        pair_counts[k] += count;
        changed.push_back(k);
        if (s[i] == new_id || s[i + 1] == new_id) {
          std::vector<int32_t>& list = pair_words[k];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (uint64_t k : changed) {
      const auto it = pair_counts.find(k);
      if (it->second <= 0) {
        pair_counts.erase(it);
        continue;
      }
      if (banned.count(k) == 0) push(k, it->second);
    }
  }
  return result;
}

} // namespace proofmesh::engine
