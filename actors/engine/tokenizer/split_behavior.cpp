// A line-by-line port of NormalizedString::split's fold over (offsets, is_match) pairs; the
// quirks (e.g. a leading match with MergedWithPrevious stays alone) are tokenizers' own.
#include "actors/engine/tokenizer/split_behavior.hpp"

#include <algorithm>

namespace proofmesh::engine {

bool parse_split_behavior(std::string_view name, split_behavior& out) {
  if (name == "Isolated") out = split_behavior::split_isolated;
  else if (name == "Removed") out = split_behavior::split_removed;
  else if (name == "MergedWithPrevious") out = split_behavior::split_merged_with_previous;
  else if (name == "MergedWithNext") out = split_behavior::split_merged_with_next;
  else if (name == "Contiguous") out = split_behavior::split_contiguous;
  else return false;
  return true;
}

std::vector<std::pair<size_t, size_t>> apply_split_behavior(std::vector<regex_piece> pieces,
                                                            split_behavior behavior) {
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(pieces.size());
  switch (behavior) {
  case split_behavior::split_isolated:
    for (const regex_piece& p : pieces) out.emplace_back(p.begin, p.end);
    break;
  case split_behavior::split_removed:
    for (const regex_piece& p : pieces) {
      if (!p.is_match) out.emplace_back(p.begin, p.end);
    }
    break;
  case split_behavior::split_contiguous: {
    bool previous_match = false;
    for (const regex_piece& p : pieces) {
      if (p.is_match == previous_match && !out.empty()) out.back().second = p.end;
      else out.emplace_back(p.begin, p.end);
      previous_match = p.is_match;
    }
    break;
  }
  case split_behavior::split_merged_with_previous: {
    bool previous_match = false;
    for (const regex_piece& p : pieces) {
      if (p.is_match && !previous_match && !out.empty()) out.back().second = p.end;
      else out.emplace_back(p.begin, p.end);
      previous_match = p.is_match;
    }
    break;
  }
  case split_behavior::split_merged_with_next: {
    // The same fold run from the right, then reversed back.
    bool previous_match = false;
    for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
      if (it->is_match && !previous_match && !out.empty()) out.back().first = it->begin;
      else out.emplace_back(it->begin, it->end);
      previous_match = it->is_match;
    }
    std::reverse(out.begin(), out.end());
    break;
  }
  }
  return out;
}

} // namespace proofmesh::engine
